import { describe, expect, it } from 'vitest';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { Terminal } from '@xterm/headless';
import { linesIn, skippable } from '../../src/supervisor/mirror/fast-forward';
import { LIVE_HISTORY_LINES } from '../../src/supervisor/mirror/history-tuning';
import { Screen } from '../../src/supervisor/mirror/screen';

// The mirror may skip the start of a plain-text flood. The screen, scrollback, cursor
// and modes after a fast-forwarded parse must equal those of a full parse, byte for byte
// of the serialized snapshot.

/**
 * The history's bound, and the lines of it xterm keeps live: all of it (`live` = scrollback),
 * or the production window (LIVE_HISTORY_LINES, the rest archived: xterm is then fed 16 KiB
 * at a time until a skip, and the cuts fall elsewhere, often inside a line).
 */
const SCROLLBACK = 500;
const WINDOWS = [
  { name: 'whole history live', live: SCROLLBACK },
  { name: 'production live window', live: LIVE_HISTORY_LINES },
] as const;

function run(data: Buffer, fastForward: boolean, live: number, cols = 80, rows = 24, scrollback = SCROLLBACK): Promise<Screen> {
  const s = new Screen(cols, rows, scrollback, 64 * 1024 * 1024, fastForward, undefined, undefined, live);
  // Queue everything at once, as a pty flood does while the parser is behind.
  for (let i = 0; i < data.length; i += 65536) s.write(data.subarray(i, i + 65536));
  return s.flush().then(() => s);
}

function snapshotOf(s: Screen): Promise<string> {
  return new Promise((resolve) => s.snapshot((snap) => resolve(snap.bytes.toString('utf8'))));
}

/** The fast-forwarded parse against a full one, with each live window. */
async function same(data: Buffer, expectSkip: boolean, exactLines = true): Promise<void> {
  for (const { name, live } of WINDOWS) await sameWith(data, expectSkip, exactLines, live, name);
}

async function sameWith(data: Buffer, expectSkip: boolean, exactLines: boolean, live: number, name: string): Promise<void> {
  const fast = await run(data, true, live);
  const full = await run(data, false, live);
  expect(fast.skippedBytes > 0, name).toBe(expectSkip);
  expect(full.skippedBytes, name).toBe(0);
  expect(await snapshotOf(fast), name).toBe(await snapshotOf(full));
  const f = fast.capture({ lines: null, scrollback: true, ansi: true, since: null });
  const g = full.capture({ lines: null, scrollback: true, ansi: true, since: null });
  expect({ ...f, firstLine: 0, nextLine: 0 }, name).toEqual({ ...g, firstLine: 0, nextLine: 0 });
  // Line numbers count the skipped lines. They may run ahead of a full parse's, never
  // behind: where a character's width is not certain (taken as wide), and by one line per
  // skip (the text kept after it is printed from the column the cursor had before the skip,
  // up to its first carriage return, and may wrap where it would not have).
  if (g.alternate) {
    expect([f.firstLine, f.nextLine], name).toEqual([null, null]);
  } else {
    expect(f.nextLine! - f.firstLine!, name).toBe(g.nextLine! - g.firstLine!);
    expect(f.nextLine!, name).toBeGreaterThanOrEqual(g.nextLine!);
    if (exactLines) expect(f.nextLine! - g.nextLine!, name).toBeLessThanOrEqual(4);
  }
  fast.dispose();
  full.dispose();
}

const lines = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('');

describe('fast-forward of plain floods', () => {
  it('skips most of a plain flood and ends on the same screen', async () => {
    await same(Buffer.from(lines(60_000, (i) => `line ${i} ${'x'.repeat(i % 70)}\r\n`)), true);
  });

  it('keeps state set before the flood (colours, cursor row, partial line)', async () => {
    const pre = '\x1b[1;31mred bold\x1b[0m\x1b[5;10Hmid-screen \x1b[44m';
    await same(Buffer.from(pre + lines(250_000, (i) => `plain ${i}\r\n`) + 'tail without newline'), true);
  });

  it('handles long wrapped lines, wide characters, tabs, CR-only progress', async () => {
    const body = lines(30_000, (i) => `${'wide 中文 😀 '.repeat(i % 20)}\t${i}\r${i % 7}\r\n`);
    await same(Buffer.from(body), true);
  });

  it('does not skip past escape sequences or other controls', async () => {
    const body = lines(250_000, (i) => (i % 1000 === 999 ? `\x1b[3${i % 8}mcolour ${i}\x1b[0m\r\n` : `p ${i}\r\n`));
    await same(Buffer.from(body), true);
    const bells = lines(40_000, (i) => `b ${i}\x07\r\n`);
    await same(Buffer.from(bells), false);
  });

  it('skips coloured floods (SGR) and keeps the attributes they leave set', async () => {
    // Reset on every line, as ls, grep and compilers do.
    await same(Buffer.from(lines(120_000, (i) => `\x1b[1;3${i % 8}mcolour ${i}\x1b[0m and ${'x'.repeat(i % 40)}\r\n`)), true);
    // Never reset: each line adds to the attributes of the one before; the flood ends
    // with attributes set, and a line drawn with them (its background shows them).
    const build = (i: number) => [`\x1b[38;5;${i % 256}m`, `\x1b[48;2;${i % 256};0;${(i * 7) % 256}m`, '\x1b[4:3m', '\x1b[58:2::255:0:0m', '\x1b[24m', '\x1b[7m', '\x1b[27m'][i % 7];
    await same(Buffer.from(`\x1b[1;44m${lines(150_000, (i) => `${build(i)}attr ${i}\r\n`)}\x1b[2Kend`), true);
    // Set once, past what is parsed before the first skip (256 KB), then plain text: only
    // the replay carries the attributes to the end.
    await same(Buffer.from(`${lines(60_000, (i) => `pre ${i}\r\n`)}\x1b[3;38;5;123;48;2;1;2;3m${lines(200_000, (i) => `italic ${i}\r\n`)}\x1b[2Ktail`), true);
    // Resets of every spelling between.
    const resets = ['\x1b[m', '\x1b[0m', '\x1b[0;33m', '\x1b[;4m', '\x1b[00m'];
    await same(Buffer.from(lines(120_000, (i) => `\x1b[9${i % 8}m${i}${i % 3 === 0 ? resets[i % 5] : ''} text\r\n`)), true);
  });

  it('does not skip a flood of bare line feeds (where each line starts depends on the one before)', async () => {
    await same(Buffer.from(`abc${lines(1_000_000, (i) => `n${i % 10}\n`)}`), false);
  });

  it('leaves the alternate screen and a scroll region intact', async () => {
    const pre = '\x1b[?1049h\x1b[2;20r\x1b[10;1H';
    await same(Buffer.from(pre + lines(250_000, (i) => `alt ${i}\r\n`)), true);
    // A region below the top row on the normal screen: what scrolls out of it is gone, not history.
    await same(Buffer.from('\x1b[3;20r\x1b[10;1H' + lines(250_000, (i) => `region ${i}\r\n`)), true);
  });

  it('finds the cut after a line feed with enough lines after it, and after a carriage return', () => {
    const cut = (text: string | Buffer[], keep: number, sync = 0) => skippable(typeof text === 'string' ? [Buffer.from(text)] : text, keep, sync);
    const chunks = [Buffer.from('a\r\nb\r\n'), Buffer.from('c\r\nd\r\n')];
    expect(cut(chunks, 1).bytes).toBe(9); // keep "d\r\n": cut after "c\r\n"
    expect(cut(chunks, 3).bytes).toBe(3);
    expect(cut(chunks, 4).bytes).toBe(0);
    // The column is known only after a CR: bare line feeds are never skipped…
    expect(cut('a\nb\nc\nd\n', 1).bytes).toBe(0);
    // …and the cut stays before the last CR that has `sync` line feeds after it.
    expect(cut('a\r\nb\nc\nd\n', 1, 0).bytes).toBe(0); // the CR must be in what is kept
    expect(cut('a\r\nb\r\nc\nd\n', 1, 0).bytes).toBe(3);
    expect(cut('a\r\nb\r\nc\nd\n', 0, 2).bytes).toBe(3);
    // Other escape sequences and controls end the skip.
    expect(cut('a\r\n\x1b[2Jb\r\nc\r\nd\r\n', 1).bytes).toBe(3);
    expect(cut('a\r\n\x1b[?25lb\r\nc\r\nd\r\n', 1).bytes).toBe(3);
    expect(cut('a\r\n\x07b\r\nc\r\nd\r\n', 1).bytes).toBe(3);
    // A UTF-8 C1 control (U+009B, CSI) is not plain.
    expect(cut('a\r\n\u009b0mb\r\nc\r\nd\r\n', 1).bytes).toBe(3);
  });

  it('skips SGR sequences and parses instead those from the last reset before the cut', () => {
    const cut = (text: string, keep: number) => {
      const s = skippable([Buffer.from(text)], keep, 0);
      return [s.bytes, s.replay.toString('latin1')];
    };
    expect(cut('\x1b[31mred\r\n\x1b[0mx\r\n\x1b[1;32mgreen\r\nkeep\r\n', 1)).toEqual([31, '\x1b[0m\x1b[1;32m']);
    // No reset: all of them, in order (each adds to the attributes before the skip).
    expect(cut('\x1b[1mbold\r\n\x1b[38:2::1:2:3mrgb\r\nkeep\r\n', 1)).toEqual([29, '\x1b[1m\x1b[38:2::1:2:3m']);
    // Resets: ESC[m, ESC[0;…m and ESC[;…m reset first; ESC[01m does not.
    expect(cut('\x1b[1ma\x1b[;4mb\r\nk\r\n', 1)[1]).toBe('\x1b[;4m');
    expect(cut('\x1b[1ma\x1b[01mb\r\nk\r\n', 1)[1]).toBe('\x1b[1m\x1b[01m');
    expect(cut('\x1b[1ma\x1b[mb\r\nk\r\n', 1)[1]).toBe('\x1b[m');
    // A reset after the cut does not hide what came before the cut.
    expect(cut('\x1b[31ma\r\nb\x1b[0m\r\n', 0)).toEqual([8, '\x1b[31m']);
    // Split across chunks anywhere, read the same.
    const text = '\x1b[31mred\r\n\x1b[0mx\r\n\x1b[1;32mgreen\r\nkeep\r\n';
    for (let at = 1; at < text.length; at++) {
      const s = skippable([Buffer.from(text.slice(0, at)), Buffer.from(text.slice(at))], 1, 0);
      expect([s.bytes, s.replay.toString('latin1')], `split at ${at}`).toEqual([31, '\x1b[0m\x1b[1;32m']);
    }
    // Too long for an SGR (over 64 bytes): not skipped.
    expect(cut(`a\r\n\x1b[${'1;'.repeat(40)}mb\r\nc\r\n`, 1)[0]).toBe(3);
  });

  it('counts the skipped lines from the cursor\'s column, never fewer than a parse makes', async () => {
    // A parse stopped inside a line (a chunk ended there), then the bytes a skip would pass:
    // the lines they make, as xterm parses them, against linesIn's count.
    const parsed = async (cols: number, before: Buffer, skipped: Buffer): Promise<{ column: number; lines: number }> => {
      const term = new Terminal({ cols, rows: 5, scrollback: 100_000, allowProposedApi: true, logLevel: 'off' });
      term.loadAddon(new Unicode11Addon());
      term.unicode.activeVersion = '11';
      const write = (b: Buffer) => new Promise<void>((resolve) => term.write(b, resolve));
      const line = () => term.buffer.normal.baseY + term.buffer.normal.cursorY;
      await write(before);
      const column = term.buffer.normal.cursorX;
      const from = line();
      await write(skipped);
      const lines = line() - from;
      term.dispose();
      return { column, lines };
    };
    const check = async (cols: number, before: string | Buffer, skipped: string | Buffer, exact: boolean, label: string) => {
      const b = Buffer.isBuffer(before) ? before : Buffer.from(before);
      const k = Buffer.isBuffer(skipped) ? skipped : Buffer.from(skipped);
      const want = await parsed(cols, b, k);
      // Cut anywhere: the count must not depend on how the skipped bytes were chunked.
      for (const at of [k.length, 1, k.length >> 1]) {
        const chunks = at >= k.length ? [k] : [k.subarray(0, at), k.subarray(at)];
        const got = linesIn(chunks, k.length, cols, want.column);
        expect(got, `${label} (split at ${at})`).toBeGreaterThanOrEqual(want.lines);
        if (exact) expect(got, `${label} (split at ${at})`).toBe(want.lines);
      }
    };
    // The case the flood test met: the rest of a line of wide characters, begun at column 14.
    const wide = 'wide 中文 😀 '.repeat(12);
    await check(80, wide.slice(0, 13), `${wide.slice(13)}\t392\r0\r\nnext\r\n`, false, 'rest of a wide line');
    await check(80, 'x'.repeat(70), `${'y'.repeat(20)}\r\nz\r\n`, true, 'rest of a line, short but past the edge');
    await check(80, 'x'.repeat(80), 'y\r\n', true, 'a wrap pending at the cut');
    // Bare line feeds keep the column: the next line starts where the one before ended.
    await check(20, 'a\r\n', `${'b'.repeat(15)}\n${'c'.repeat(10)}\r\nd\r\n`, true, 'bare line feed');
    // A character split by the cut: its first bytes parsed, the rest skipped (counted wide).
    const cjk = Buffer.from(`${'x'.repeat(78)}中y\r\nz\r\n`);
    await check(80, cjk.subarray(0, 79), cjk.subarray(79), true, 'character split by the cut');
    // Tabs: short in bytes, wide on the screen.
    await check(20, 'a\r\n', `${'\t'.repeat(4)}ab\r\nc\r\n`, false, 'tabs to the last column');
    // Random text: plain, wide and narrow multi-byte characters, tabs, BS, CR, SGR, line
    // feeds with and without CR, cut anywhere (inside a character too).
    const pieces = ['a', 'bc', 'word ', '中', '文', '😀', 'é', '\t', '\b', '\r', '\x1b[31m', '\x1b[0m', '\r\n', '\r\n', '\n'];
    let seed = 777;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let round = 0; round < 150; round++) {
      const cols = 8 + rand(40);
      const uncertain = rand(2) === 0; // tabs, BS and narrow multi-byte characters allowed
      const allowed = uncertain ? pieces : pieces.filter((p) => !['\t', '\b', 'é'].includes(p));
      let text = '';
      while (text.length < 200 + rand(400)) text += allowed[rand(allowed.length)]!.repeat(1 + rand(rand(4) === 0 ? 30 : 3));
      const bytes = Buffer.from(`${text}\r\n`);
      // The skip ends right after a line feed; the parse before it stopped anywhere.
      const stop = rand(bytes.length - 1);
      let end = bytes.lastIndexOf(0x0a, bytes.length - 1);
      if (end <= stop) end = bytes.length - 1;
      const split = stop > 0 && bytes[stop]! >= 0x80 && bytes[stop]! < 0xc0;
      await check(cols, bytes.subarray(0, stop), bytes.subarray(stop, end + 1), !uncertain && !split, `round ${round}`);
    }
  });

  it('agrees with a byte-by-byte reading on random text, SGR, other sequences, controls and chunkings', () => {
    // Bytes chosen to hit every lane of the bit tricks: controls, DEL, 0xC2 before C1 and not.
    const alphabet = [0x0a, 0x0a, 0x0d, 0x09, 0x08, 0x1b, 0x00, 0x07, 0x1f, 0x20, 0x41, 0x7e, 0x7f, 0x80, 0x9b, 0x9f, 0xa0, 0xc2, 0xc3, 0xff];
    const sequences = ['\x1b[31m', '\x1b[0m', '\x1b[m', '\x1b[;1m', '\x1b[1;38;5;200m', '\x1b[38:2::1:2:3m', '\x1b[2J', '\x1b[?25l', '\x1b[', '\x1b]0;t\x07', '\x1bM'];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let round = 0; round < 20000; round++) {
      const len = rand(400);
      const controls = rand(4) === 0 ? 0 : 1 + rand(3); // some inputs all plain
      // A few special bytes per input, so that rare pairs (0xC2 then C1) come first often.
      const special = [0, 1, 2].map(() => alphabet[rand(alphabet.length)]!);
      const seqs = [0, 1, 2].map(() => sequences[rand(sequences.length)]!);
      const withSeqs = rand(2) === 0;
      const out: number[] = [];
      while (out.length < len) {
        if (withSeqs && rand(40) === 0) out.push(...Buffer.from(seqs[rand(3)]!, 'latin1'));
        else if (rand(30) < controls) out.push(special[rand(3)]!);
        else if (rand(12) === 0) out.push(...(rand(3) === 0 ? [0x0a] : [0x0d, 0x0a]));
        else out.push(0x61 + rand(26));
      }
      const bytes = Buffer.from(out);
      // Random chunks at random alignments (a Buffer's byteOffset decides the word boundaries).
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const n = Math.min(bytes.length - at, 1 + rand(40));
        const pad = rand(4);
        const b = Buffer.alloc(n + pad).subarray(pad);
        bytes.copy(b, 0, at, at + n);
        chunks.push(b);
        at += n;
      }
      const keep = rand(6);
      const sync = rand(6);
      const got = skippable(chunks, keep, sync);
      const want = byteByByte(bytes, keep, sync);
      expect([got.bytes, got.replay.toString('latin1')], `round ${round}`).toEqual([want.bytes, want.replay]);
    }
  });
});

/** The reference: the same rules, one byte at a time on one buffer. */
function byteByByte(b: Buffer, keepLines: number, syncLines: number): { bytes: number; replay: string } {
  const none = { bytes: 0, replay: '' };
  const lfs: number[] = [];
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a) lfs.push(i);
  if (lfs.length <= keepLines || lfs.length <= syncLines) return none;
  const latestCut = lfs[lfs.length - 1 - keepLines]! + 1;
  const syncAt = lfs[lfs.length - 1 - syncLines]!;
  const cr = syncAt > 0 ? b.lastIndexOf(0x0d, syncAt - 1) : -1;
  if (cr < 0) return none;
  const limit = Math.min(latestCut, cr);
  const text = b.toString('latin1');
  const sgrs: Array<{ end: number; text: string; reset: boolean }> = [];
  let end = limit;
  for (let i = 0; i < limit; ) {
    const x = b[i]!;
    const plain = x === 0x0a || x === 0x0d || x === 0x09 || x === 0x08 || (x >= 0x20 && x !== 0x7f);
    if (plain && !(i > 0 && b[i - 1] === 0xc2 && x >= 0x80 && x <= 0x9f)) {
      i++;
      continue;
    }
    const m = x === 0x1b ? /^\x1b\[([0-9;:]*)m/.exec(text.slice(i, i + 64)) : null;
    if (!m) {
      end = i;
      break;
    }
    sgrs.push({ end: i + m[0].length, text: m[0], reset: /^0*(;|$)/.test(m[1]!) });
    i += m[0].length;
  }
  const lf = end > 0 ? b.lastIndexOf(0x0a, end - 1) : -1;
  if (lf < 0) return none;
  const cut = lf + 1;
  const before = sgrs.filter((g) => g.end <= cut);
  let from = 0;
  for (let k = before.length - 1; k >= 0; k--) {
    if (before[k]!.reset) {
      from = k;
      break;
    }
  }
  return { bytes: cut, replay: before.slice(from).map((g) => g.text).join('') };
}
