// Fast-forward for a flood of plain text. Lines that scroll past the end of the
// scrollback leave no trace in the screen model, so when the backlog holds more plain
// text than the buffer can keep, the mirror may skip its start without changing the
// result. "Plain" means printable text with CR, LF, TAB and BS only: nothing that sets
// state (no ESC, no other C0 control, no C1 control, no BEL that could end an OSC).
//
// Why the result is the same: the kept part starts right after a line feed and still
// holds `keepLines` line feeds, chosen as scrollback + 2 x rows + margin. After that many
// line feeds, from any cursor row, every row that existed before the cut (and every row
// where the first kept lines could mix with old content) has scrolled out of the buffer.

/** 1 for the bytes that are plain wherever they stand; 2 for 0xC2, which starts a C1 control when 0x80..0x9F follows. */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b < 0x100; b++) PLAIN[b] = 1;
PLAIN[0x7f] = 0;
PLAIN[0xc2] = 2;
for (const b of [0x0a, 0x0d, 0x09, 0x08]) PLAIN[b] = 1;

/**
 * How many leading bytes of `chunks` (taken as one stream) can be skipped: 0, or a
 * position right after a line feed such that everything before it is plain and at
 * least `keepLines` line feeds follow it.
 */
export function skippableBytes(chunks: readonly Buffer[], keepLines: number): number {
  // From the end: the latest cut that still leaves keepLines line feeds after it.
  let total = 0;
  for (const c of chunks) total += c.length;
  let seen = 0;
  let latestCut = -1;
  let pos = total;
  for (let ci = chunks.length - 1; ci >= 0 && latestCut < 0; ci--) {
    const c = chunks[ci]!;
    pos -= c.length;
    for (let i = c.lastIndexOf(0x0a); i >= 0; i = i > 0 ? c.lastIndexOf(0x0a, i - 1) : -1) {
      if (seen === keepLines) {
        latestCut = pos + i + 1;
        break;
      }
      seen++;
    }
  }
  if (latestCut <= 0) return 0;
  // From the start: the cut may not pass the first byte that is not plain. A table
  // lookup per byte: this scan runs over most of a flood.
  let offset = 0;
  let end = latestCut; // the first byte that may not be skipped
  let c2 = false; // the previous byte was 0xC2
  scan: for (const c of chunks) {
    const n = Math.min(c.length, latestCut - offset);
    for (let i = 0; i < n; i++) {
      const kind = PLAIN[c[i]!]!;
      if (kind === 0 || (c2 && c[i]! >= 0x80 && c[i]! <= 0x9f)) {
        end = offset + i;
        break scan;
      }
      c2 = kind === 2;
    }
    offset += c.length;
    if (offset >= latestCut) break;
  }
  // The cut: right after the last line feed before `end`.
  offset = 0;
  let cut = 0;
  for (const c of chunks) {
    if (offset >= end) break;
    const lf = c.lastIndexOf(0x0a, Math.min(c.length, end - offset) - 1);
    if (lf >= 0) cut = offset + lf + 1;
    offset += c.length;
  }
  return cut;
}
