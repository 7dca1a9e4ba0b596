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
  // From the start: the cut may not pass the first byte that is not plain.
  let offset = 0;
  let end = latestCut; // the first byte that may not be skipped
  let c2 = false; // the previous byte was 0xC2
  for (const c of chunks) {
    const n = Math.min(c.length, latestCut - offset);
    if (n > 0 && c2 && c[0]! >= 0x80 && c[0]! <= 0x9f) {
      end = offset; // a C1 control begun at the end of the chunk before
      break;
    }
    const bad = firstNotPlain(c, n);
    if (bad >= 0) {
      end = offset + bad;
      break;
    }
    c2 = n === c.length && n > 0 && c[n - 1] === 0xc2;
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

/** c[k] is plain: 0xC2 is not when a C1 byte follows it in c[0, n) (past n, the caller sees it). */
function plainAt(c: Buffer, k: number, n: number): boolean {
  const kind = PLAIN[c[k]!]!;
  if (kind === 1) return true;
  if (kind === 0) return false;
  if (k + 1 >= n) return true;
  const next = c[k + 1]!;
  return next < 0x80 || next > 0x9f;
}

/**
 * The first byte of c[0, n) that is not plain, or -1. Four bytes at a time (this scan runs
 * over most of a flood; a table lookup per byte cost 3 ns/byte, 0.3 s per 100 MB): a
 * 32-bit word with no byte below 0x20, no 0x7F and no 0xC2 is plain, which the classic
 * has-less/has-zero bit tricks tell without looking at its bytes. Words that have one are
 * checked byte by byte: those with a line feed, one in 25 in plain text.
 */
function firstNotPlain(c: Buffer, n: number): number {
  let i = 0;
  const head = Math.min(n, (4 - (c.byteOffset & 3)) & 3);
  for (; i < head; i++) if (!plainAt(c, i, n)) return i;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(c.buffer, c.byteOffset + i, words);
    for (let j = 0; j < words; j++) {
      const x = w[j]!;
      const y = x ^ 0x7f7f7f7f;
      const z = x ^ 0xc2c2c2c2;
      // Per byte lane, the high bit is set when: x < 0x20 | y == 0 | z == 0 (exact as a whole).
      if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y) | ((z - 0x01010101) & ~z)) & 0x80808080) {
        const b = i + j * 4;
        for (let k = b; k < b + 4; k++) if (!plainAt(c, k, n)) return k;
      }
    }
    i += words * 4;
  }
  for (; i < n; i++) if (!plainAt(c, i, n)) return i;
  return -1;
}
