// Claude Code reports its state in OSC 7501 only to a terminal that answers its probe
// `ESC ] 7501 ; ? (BEL|ST)` with any OSC 7501 whose data starts with `?`, and the answer
// must come before the answer to the DA1 query it sends right after (its sentinel). No
// real terminal answers it, so the supervisor does, whoever is attached, and as soon as
// the probe arrives in the raw output: before the output reaches a viewer's terminal (whose
// DA1 answer would otherwise win) and before the mirror parses it (whose DA1 answer would).
// The scan is a byte search per chunk, with the probe's length kept across chunks.

const PROBE = Buffer.from('\x1b]7501;?', 'latin1');
export const PROBE_ANSWER = Buffer.from('\x1b]7501;?\x1b\\', 'latin1');

export class StateProbe {
  /** The end of the previous chunk, where a probe may begin. */
  private tail: Buffer = Buffer.alloc(0);

  /** How many probes this chunk completes (each gets its answer). */
  scan(chunk: Buffer): number {
    let n = 0;
    if (this.tail.length > 0) {
      // A probe across the boundary: only the bytes that end in this chunk.
      const joined = Buffer.concat([this.tail, chunk.subarray(0, PROBE.length - 1)]);
      for (let i = joined.indexOf(PROBE); i >= 0; i = joined.indexOf(PROBE, i + 1)) if (i < this.tail.length) n++; // (one wholly in this chunk is counted below)
    }
    for (let i = chunk.indexOf(PROBE); i >= 0; i = chunk.indexOf(PROBE, i + PROBE.length)) n++;
    this.tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - (PROBE.length - 1))));
    return n;
  }
}
