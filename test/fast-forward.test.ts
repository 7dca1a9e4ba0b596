import { describe, expect, it } from 'vitest';
import { skippableBytes } from '../src/supervisor/fast-forward';
import { Screen } from '../src/supervisor/screen';

// The mirror may skip the start of a plain-text flood. The screen, scrollback, cursor
// and modes after a fast-forwarded parse must equal those of a full parse, byte for byte
// of the serialized snapshot.

function run(data: Buffer, fastForward: boolean, cols = 80, rows = 24, scrollback = 500): Promise<Screen> {
  const s = new Screen(cols, rows, scrollback, 64 * 1024 * 1024, fastForward);
  // Queue everything at once, as a pty flood does while the parser is behind.
  for (let i = 0; i < data.length; i += 65536) s.write(data.subarray(i, i + 65536));
  return s.flush().then(() => s);
}

function snapshotOf(s: Screen): Promise<string> {
  return new Promise((resolve) => s.snapshot((snap) => resolve(snap.bytes.toString('utf8'))));
}

async function same(data: Buffer, expectSkip: boolean): Promise<void> {
  const fast = await run(data, true);
  const full = await run(data, false);
  expect(fast.skippedBytes > 0).toBe(expectSkip);
  expect(full.skippedBytes).toBe(0);
  expect(await snapshotOf(fast)).toBe(await snapshotOf(full));
  expect(fast.capture({ lines: null, scrollback: true, ansi: true })).toEqual(full.capture({ lines: null, scrollback: true, ansi: true }));
  fast.term.dispose();
  full.term.dispose();
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

  it('leaves the alternate screen and a scroll region intact', async () => {
    const pre = '\x1b[?1049h\x1b[2;20r\x1b[10;1H';
    await same(Buffer.from(pre + lines(250_000, (i) => `alt ${i}\r\n`)), true);
  });

  it('finds the cut after a line feed with enough lines after it', () => {
    const chunks = [Buffer.from('a\nb\n'), Buffer.from('c\nd\n')];
    expect(skippableBytes(chunks, 1)).toBe(6); // keep "d\n"... cut after "c\n"
    expect(skippableBytes(chunks, 3)).toBe(2);
    expect(skippableBytes(chunks, 4)).toBe(0);
    expect(skippableBytes([Buffer.from('a\n\x1b[0mb\nc\nd\n')], 1)).toBe(2);
    // A UTF-8 C1 control (U+009B, CSI) is not plain.
    expect(skippableBytes([Buffer.from('a\n\u009b0mb\nc\nd\n')], 1)).toBe(2);
  });

  it('the word-at-a-time scan agrees with a byte-by-byte one on random text, controls and chunkings', () => {
    // Bytes chosen to hit every lane of the bit tricks: controls, DEL, 0xC2 before C1 and not.
    const alphabet = [0x0a, 0x0a, 0x0d, 0x09, 0x08, 0x1b, 0x00, 0x07, 0x1f, 0x20, 0x41, 0x7e, 0x7f, 0x80, 0x9b, 0x9f, 0xa0, 0xc2, 0xc3, 0xff];
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
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) bytes[i] = rand(30) < controls ? special[rand(3)]! : rand(12) === 0 ? 0x0a : 0x61 + rand(26);
      // Random chunks at random alignments (a Buffer's byteOffset decides the word boundaries).
      const chunks: Buffer[] = [];
      for (let at = 0; at < len; ) {
        const n = Math.min(len - at, 1 + rand(40));
        const pad = rand(4);
        const b = Buffer.alloc(n + pad).subarray(pad);
        bytes.copy(b, 0, at, at + n);
        chunks.push(b);
        at += n;
      }
      const keep = rand(6);
      expect(skippableBytes(chunks, keep), `round ${round}`).toBe(skippableByteByByte(bytes, keep));
    }
  });
});

/** The reference: the same rule, one byte at a time on one buffer. */
function skippableByteByByte(b: Buffer, keepLines: number): number {
  let seen = 0;
  let latestCut = -1;
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] !== 0x0a) continue;
    if (seen === keepLines) {
      latestCut = i + 1;
      break;
    }
    seen++;
  }
  if (latestCut <= 0) return 0;
  let end = latestCut;
  for (let i = 0; i < latestCut; i++) {
    const x = b[i]!;
    const plain = x === 0x0a || x === 0x0d || x === 0x09 || x === 0x08 || (x >= 0x20 && x !== 0x7f);
    if (!plain || (i > 0 && b[i - 1] === 0xc2 && x >= 0x80 && x <= 0x9f)) {
      end = i;
      break;
    }
  }
  const lf = end > 0 ? b.lastIndexOf(0x0a, end - 1) : -1;
  return lf >= 0 ? lf + 1 : 0;
}
