// Fast-forward for a flood of text. Lines that scroll past the end of the scrollback
// leave no trace in the screen model, so when the backlog holds more text than the buffer
// can keep, the mirror may skip its start without changing the result. What may be
// skipped: printable text with CR, LF, TAB and BS, and SGR sequences (ESC [ params m, the
// colours and attributes of coloured output). Nothing else that sets state: no other
// escape sequence, no other C0 control, no C1 control, no BEL that could end an OSC. The
// one lasting effect of the skipped SGR sequences, the attributes in effect at the cut,
// is kept by parsing them (from the last reset on) instead of the skipped bytes.
//
// Why the result is the same: the kept part starts right after a line feed and still
// holds `keepLines` line feeds, chosen as scrollback + 2 x rows + margin: after `rows` of
// them the cursor is on the bottom row in either parse, and every row that existed then
// scrolls out of the buffer with the rest. The cursor's column is another matter: a line
// feed keeps it, so text is placed the same way in both parses only after a carriage
// return. So the cut is never after the last CR that still has `syncLines` line feeds
// after it (scrollback + rows + margin): a flood of bare line feeds (a program that turned
// output processing off) is not skipped at all.

/** 1 for the bytes that are plain wherever they stand; 2 for 0xC2, which starts a C1 control when 0x80..0x9F follows. */
const PLAIN = new Uint8Array(256);
for (let b = 0x20; b < 0x100; b++) PLAIN[b] = 1;
PLAIN[0x7f] = 0;
PLAIN[0xc2] = 2;
for (const b of [0x0a, 0x0d, 0x09, 0x08]) PLAIN[b] = 1;

/** An SGR sequence longer than this is not skipped (real ones are under 40 bytes). */
const MAX_SGR = 64;
/**
 * SGR sequences since the last reset kept for the replay, at most: output that sets
 * colours without ever resetting them stops the skip there (less is skipped, nothing is
 * wrong).
 */
const MAX_REPLAY = 256;

export interface Skip {
  /** How many leading bytes may be skipped: 0, or a position right after a line feed. */
  bytes: number;
  /** What to parse instead: the SGR sequences among them, from the last reset on. */
  replay: Buffer;
}

const NO_SKIP: Skip = { bytes: 0, replay: Buffer.alloc(0) };

/** Set in sgrAt's answer when the sequence resets all attributes first. */
const RESET = 0x100;

/**
 * The SGR sequence starting at chunks[ci][i] (an ESC), read across chunk ends: its length,
 * plus RESET when its first parameter is empty or zero (ESC[m, ESC[0m, ESC[0;31m, ESC[;1m
 * reset first); 0 when it is not one (another sequence, or the stream ends inside it).
 * Called for every colour change of a coloured flood: no allocation.
 */
function sgrAt(chunks: readonly Buffer[], ci: number, i: number): number {
  let c = chunks[ci]!;
  let k = 0;
  let reset = true;
  let firstParam = true;
  for (;;) {
    while (i >= c.length) {
      if (++ci >= chunks.length) return 0;
      c = chunks[ci]!;
      i = 0;
    }
    const b = c[i++]!;
    k++;
    if (k === 1) continue; // the ESC
    if (k === 2) {
      if (b !== 0x5b) return 0; // not CSI
      continue;
    }
    if (b === 0x6d) return reset ? k | RESET : k; // 'm'
    if (k >= MAX_SGR) return 0;
    // Parameters: digits, ';' and ':' only (no private markers, no intermediates).
    if (b === 0x3b) firstParam = false;
    else if (b >= 0x30 && b <= 0x39) reset &&= !firstParam || b === 0x30;
    else if (b === 0x3a) reset &&= !firstParam;
    else return 0;
  }
}

/** There is a line feed in the stream from global offset `from` up to chunks[ci][i]. */
function lineFeedSince(chunks: readonly Buffer[], starts: readonly number[], from: number, ci: number, i: number): boolean {
  for (; ci >= 0; ci--) {
    const s = starts[ci]!;
    const lf = i > 0 ? chunks[ci]!.lastIndexOf(0x0a, i - 1) : -1;
    if (lf >= 0) return s + lf >= from;
    if (s <= from) return false;
    i = ci > 0 ? chunks[ci - 1]!.length : 0;
  }
  return false;
}

/** `length` bytes of the stream from global offset `at`, copied. */
function bytesAt(chunks: readonly Buffer[], starts: readonly number[], at: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let done = 0;
  for (let ci = 0; ci < chunks.length && done < length; ci++) {
    const s = starts[ci]!;
    const c = chunks[ci]!;
    if (s + c.length <= at + done) continue;
    done += c.copy(out, done, at + done - s, Math.min(c.length, at + length - s));
  }
  return out;
}

/**
 * What of `chunks` (taken as one stream) can be skipped: a position right after a line
 * feed such that everything before it is plain or SGR, at least `keepLines` line feeds
 * follow it, and so does a carriage return with at least `syncLines` line feeds after it.
 */
export function skippable(chunks: readonly Buffer[], keepLines: number, syncLines: number): Skip {
  const starts: number[] = [];
  let total = 0;
  for (const c of chunks) {
    starts.push(total);
    total += c.length;
  }
  // From the end: the latest cut that still leaves keepLines line feeds after it, and the
  // line feed with syncLines after it, before which a carriage return must come.
  let seen = 0;
  let latestCut = -1;
  let syncAt = -1;
  for (let ci = chunks.length - 1; ci >= 0 && (latestCut < 0 || syncAt < 0); ci--) {
    const c = chunks[ci]!;
    for (let i = c.lastIndexOf(0x0a); i >= 0; i = i > 0 ? c.lastIndexOf(0x0a, i - 1) : -1) {
      if (seen === syncLines) syncAt = starts[ci]! + i;
      if (seen === keepLines) latestCut = starts[ci]! + i + 1;
      if (latestCut >= 0 && syncAt >= 0) break;
      seen++;
    }
  }
  if (latestCut <= 0 || syncAt < 0) return NO_SKIP;
  // The last carriage return before that line feed: the cut may not pass it.
  let cr = -1;
  for (let ci = chunks.length - 1; ci >= 0 && cr < 0; ci--) {
    if (starts[ci]! >= syncAt) continue;
    const c = chunks[ci]!;
    const i = c.lastIndexOf(0x0d, syncAt - starts[ci]! - 1);
    if (i >= 0) cr = starts[ci]! + i;
  }
  if (cr < 0) return NO_SKIP;
  const limit = Math.min(latestCut, cr);
  // From the start: the cut may not pass the first byte that is neither plain nor SGR.
  let end = limit; // the first byte that may not be skipped
  // The SGR sequences since the last reset known to be before the cut: where they start
  // and their length (RESET flagged); a reset not yet known to be before the cut is pending.
  const sgrStart: number[] = [];
  const sgrLen: number[] = [];
  let pendingReset = -1; // its index in those
  let c2 = false; // the byte before was 0xC2
  let ci = 0;
  let i = 0;
  let words: Words | null = null;
  while (ci < chunks.length && starts[ci]! < limit) {
    const c = chunks[ci]!;
    if (words?.c !== c) words = wordsOf(c);
    const offset = starts[ci]!;
    const n = Math.min(c.length, limit - offset);
    if (i === 0 && n > 0 && c2 && c[0]! >= 0x80 && c[0]! <= 0x9f) {
      end = offset; // a C1 control begun at the end of the chunk before
      break;
    }
    const bad = firstNotPlain(words, i, n);
    if (bad < 0) {
      c2 = n === c.length && n > i && c[n - 1] === 0xc2;
      ci++;
      i = 0;
      continue;
    }
    const sgr = c[bad] === 0x1b ? sgrAt(chunks, ci, bad) : 0;
    if (sgr === 0) {
      end = offset + bad;
      break;
    }
    const at = offset + bad;
    const length = sgr & ~RESET;
    // A reset with a line feed after it comes before the cut: what preceded it is moot.
    if (pendingReset >= 0 && lineFeedSince(chunks, starts, sgrStart[pendingReset]! + (sgrLen[pendingReset]! & ~RESET), ci, bad)) {
      sgrStart.splice(0, pendingReset);
      sgrLen.splice(0, pendingReset);
      pendingReset = -1;
    }
    if (sgrStart.length >= MAX_REPLAY) {
      end = at;
      break;
    }
    sgrStart.push(at);
    sgrLen.push(sgr);
    if (sgr & RESET) pendingReset = sgrStart.length - 1;
    // On after it, in this chunk or a later one.
    i = bad + length;
    while (ci < chunks.length && i >= chunks[ci]!.length) i -= chunks[ci++]!.length;
    c2 = false;
  }
  // The cut: right after the last line feed before `end`.
  let cut = 0;
  for (let k = 0; k < chunks.length; k++) {
    const offset = starts[k]!;
    if (offset >= end) break;
    const c = chunks[k]!;
    const lf = c.lastIndexOf(0x0a, Math.min(c.length, end - offset) - 1);
    if (lf >= 0) cut = offset + lf + 1;
  }
  if (cut === 0) return NO_SKIP;
  // The attributes at the cut: the SGR sequences before it, from the last reset on.
  let last = 0;
  while (last < sgrStart.length && sgrStart[last]! + (sgrLen[last]! & ~RESET) <= cut) last++;
  let from = 0;
  for (let k = last - 1; k >= 0; k--) {
    if (sgrLen[k]! & RESET) {
      from = k;
      break;
    }
  }
  const replay: Buffer[] = [];
  for (let k = from; k < last; k++) replay.push(bytesAt(chunks, starts, sgrStart[k]!, sgrLen[k]! & ~RESET));
  return { bytes: cut, replay: Buffer.concat(replay) };
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

/** A chunk with its bytes seen four at a time, from its first 4-byte aligned one. */
interface Words {
  c: Buffer;
  /** Index in c of the first aligned byte, where w[0] starts. */
  base: number;
  w: Uint32Array;
}

function wordsOf(c: Buffer): Words {
  const base = (4 - (c.byteOffset & 3)) & 3;
  if (base >= c.length) return { c, base: c.length, w: new Uint32Array(0) };
  return { c, base, w: new Uint32Array(c.buffer, c.byteOffset + base, (c.length - base) >>> 2) };
}

/**
 * The first byte of c[from, n) that is not plain, or -1. Four bytes at a time (this scan
 * runs over most of a flood; a table lookup per byte cost 3 ns/byte, 0.3 s per 100 MB): a
 * 32-bit word with no byte below 0x20, no 0x7F and no 0xC2 is plain, which the classic
 * has-less/has-zero bit tricks tell without looking at its bytes. Words that have one are
 * checked byte by byte: those with a line feed, one in 25 in plain text.
 */
function firstNotPlain(v: Words, from: number, n: number): number {
  const { c, base, w } = v;
  let i = from;
  // Byte by byte up to a word boundary (or n).
  const aligned = i <= base ? base : base + (((i - base + 3) >>> 2) << 2);
  for (const stop = Math.min(n, aligned); i < stop; i++) if (!plainAt(c, i, n)) return i;
  const last = Math.min(w.length, (n - base) >>> 2); // words wholly before n
  for (let j = (i - base) >>> 2; i < n && j < last; j++, i += 4) {
    const x = w[j]!;
    const y = x ^ 0x7f7f7f7f;
    const z = x ^ 0xc2c2c2c2;
    // Per byte lane, the high bit is set when: x < 0x20 | y == 0 | z == 0 (exact as a whole).
    if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y) | ((z - 0x01010101) & ~z)) & 0x80808080) {
      for (let k = i; k < i + 4; k++) if (!plainAt(c, k, n)) return k;
    }
  }
  for (; i < n; i++) if (!plainAt(c, i, n)) return i;
  return -1;
}

/**
 * How many lines of the buffer the first `bytes` of the stream would have made, printed
 * from the cursor's column `column`: one per line feed, plus one per wrap. A line that
 * starts at column 0, holds at most `cols` bytes and no tab, and ends with a carriage
 * return cannot wrap and leaves the next one at column 0 (the usual case: found with
 * indexOf, at memchr speed; a character split by the cut fits too, its extra column paid
 * by the CR's byte). Any other line is played column by column (lineWraps) from where the
 * line before left the cursor: a line feed keeps the column. Where the width of a character
 * is not certain (a three-byte UTF-8 one may be narrow or wide) it is taken as wide. So
 * numbers after a skip may run ahead of a full parse's, never behind it.
 *
 * The first line's column is the one that mattered: the parser stops wherever a chunk
 * ended, so a skip often begins inside a line, and the rest of it, counted from column 0,
 * wrapped one time fewer than from the cursor's column (numbers one line behind).
 */
export function linesIn(chunks: readonly Buffer[], bytes: number, cols: number, column = 0): number {
  let lines = 0;
  let left = bytes;
  let pending: Buffer[] = []; // the current line's bytes from earlier chunks
  let pendingBytes = 0;
  const at: Cursor = { col: column };
  for (const c of chunks) {
    if (left <= 0) break;
    const n = Math.min(c.length, left);
    left -= n;
    let from = 0;
    let tab = c.indexOf(0x09); // the first tab at or after `from`, or -1
    for (let lf = c.indexOf(0x0a, from); lf >= 0 && lf < n; lf = c.indexOf(0x0a, from)) {
      if (tab >= 0 && tab < from) tab = c.indexOf(0x09, from);
      const len = pendingBytes + lf - from;
      const simple = pendingBytes === 0 && at.col === 0 && len <= cols && lf > from && c[lf - 1] === 0x0d && !(tab >= 0 && tab < lf);
      if (!simple) lines += lineWraps(pendingBytes > 0 ? Buffer.concat([...pending, c.subarray(from, lf)]) : c.subarray(from, lf), cols, at);
      lines++;
      pending = [];
      pendingBytes = 0;
      from = lf + 1;
    }
    if (n > from) {
      pending.push(c.subarray(from, n));
      pendingBytes += n - from;
    }
  }
  return lines;
}

/** The cursor's column as lineWraps leaves it (cols: a wrap is pending). */
interface Cursor {
  col: number;
}

/**
 * The wraps of one line (no line feed in it) printed from column `at.col` on a `cols`
 * window; `at.col` is left where the line ends. Continuation bytes with no first byte
 * before them (at the start of a skip: the character's first bytes were parsed before it)
 * count as one wide character.
 */
function lineWraps(line: Buffer, cols: number, at: Cursor): number {
  let wraps = 0;
  let col = at.col;
  let follow = 0; // continuation bytes the current character may still have
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    let width = 0;
    if (b >= 0x80 && b < 0xc0) {
      // a continuation byte: part of the character before, or the end of one begun before the skip
      if (follow > 0) follow--;
      else {
        width = 2;
        follow = 2;
      }
    } else {
      follow = 0;
      if (b === 0x1b) {
        // A CSI sequence (colours: the only ones a skip passes) takes no column.
        if (line[i + 1] === 0x5b) for (i += 2; i < line.length && (line[i]! < 0x40 || line[i]! > 0x7e); i++);
        else i++;
      } else if (b === 0x0d) col = 0;
      else if (b === 0x09) col = Math.min(cols, (col + 8) & ~7);
      else if (b === 0x08) col = Math.max(0, col - 1);
      else if (b >= 0xc0) {
        // three- and four-byte characters: wide, at most
        width = b >= 0xe0 ? 2 : 1;
        follow = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
      } else if (b >= 0x20 && b !== 0x7f) width = 1; // other controls: no column
    }
    if (width > 0) {
      if (col + width > cols) {
        wraps++;
        col = 0;
      }
      col += width;
    }
  }
  at.col = col;
  return wraps;
}
