// Claude Code reports its state in OSC 7501 only to a terminal that answers its probe
// `ESC ] 7501 ; ? (BEL|ST)` with any OSC 7501 whose data starts with `?`, and the answer
// must come before the answer to the DA1 query it sends right after (its sentinel). No
// real terminal answers it, so the supervisor does, whoever is attached, and as soon as
// the probe arrives in the raw output: before the output reaches a viewer's terminal (whose
// DA1 answer would otherwise win) and before the mirror parses it (whose DA1 answer would).
// The scan is a byte search per chunk; a probe split between chunks is found by keeping how
// much of it the previous chunk ended with (no copy of any chunk).

const PROBE = Buffer.from('\x1b]7501;?', 'latin1');
export const PROBE_ANSWER = Buffer.from('\x1b]7501;?\x1b\\', 'latin1');

export class StateProbe {
  /** How many of the probe's first bytes the previous chunk ended with (0: none). */
  private partial = 0;

  /** How many probes this chunk completes (each gets its answer). */
  scan(chunk: Buffer): number {
    if (chunk.length === 0) return 0;
    let n = 0;
    // A probe begun in earlier chunks: does this one go on with it, or finish it?
    if (this.partial > 0) {
      const rest = PROBE.length - this.partial;
      const len = Math.min(rest, chunk.length);
      if (chunk.compare(PROBE, this.partial, this.partial + len, 0, len) === 0) {
        if (len < rest) {
          this.partial += len;
          return 0;
        }
        n++;
      }
    }
    for (let i = chunk.indexOf(PROBE); i >= 0; i = chunk.indexOf(PROBE, i + PROBE.length)) n++;
    this.partial = partialAtEnd(chunk);
    return n;
  }
}

/** The length of the longest start of the probe that the chunk ends with (shorter than the probe). */
function partialAtEnd(chunk: Buffer): number {
  for (let len = Math.min(PROBE.length - 1, chunk.length); len > 0; len--) {
    if (chunk.compare(PROBE, 0, len, chunk.length - len, chunk.length) === 0) return len;
  }
  return 0;
}
