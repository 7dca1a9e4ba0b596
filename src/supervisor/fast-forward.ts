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

function isPlainByte(b: number, prev: number): boolean {
  if (b >= 0x20 && b !== 0x7f) {
    // UTF-8 encoded C1 controls (U+0080..U+009F) are 0xC2 0x80..0x9F.
    return !(prev === 0xc2 && b >= 0x80 && b <= 0x9f);
  }
  return b === 0x0a || b === 0x0d || b === 0x09 || b === 0x08;
}

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
    for (let i = c.length - 1; i >= 0; i--) {
      if (c[i] !== 0x0a) continue;
      if (seen === keepLines) {
        latestCut = pos + i + 1;
        break;
      }
      seen++;
    }
  }
  if (latestCut <= 0) return 0;
  // From the start: the cut may not pass the first byte that is not plain.
  let cut = 0;
  let offset = 0;
  let prev = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) {
      const at = offset + i;
      if (at >= latestCut) return cut;
      const b = c[i]!;
      if (!isPlainByte(b, prev)) return cut;
      if (b === 0x0a) cut = at + 1;
      prev = b;
    }
    offset += c.length;
  }
  return cut;
}
