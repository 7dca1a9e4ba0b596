import { describe, expect, it } from 'vitest';
import { HistoryArchive } from '../../src/supervisor/mirror/history-archive';
import { Screen } from '../../src/supervisor/mirror/screen';
import { maxScrolls } from '../../src/supervisor/mirror/scroll-bound';
import { BEFORE_REPLAY } from '../../src/terminal-modes';
import { diff, picture, term, write } from '../helpers/cells';

// The history kept compactly outside xterm (history-archive.ts): lines past the live window
// leave xterm's buffer serialized, and the replay, capture --scrollback and --since still
// give every line of the promised history, numbered without a break, across a resize, a
// reset (RIS) and an erase of the history (ED 3).

const COLS = 40;
const ROWS = 6;
/** Promised history in lines, lines kept live in xterm, lines per chunk: small, so that most of the history is archived. */
const HISTORY = 300;
const LIVE = 20;
const CHUNK = 8;

function screen(): Screen {
  return new Screen(COLS, ROWS, HISTORY, 1 << 24, false, CHUNK, 0, LIVE);
}

function line(i: number): string {
  return `\x1b[1;3${i % 8}mline ${String(i).padStart(5, '0')}\x1b[0m ${'x'.repeat(i % 30)}`;
}

function lines(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${line(i)}\r\n`;
  return s;
}

async function settle(s: Screen): Promise<void> {
  await s.flush();
  s.warm();
  await s.flush();
}

function snapshot(s: Screen): Promise<Buffer> {
  return new Promise((resolve) => s.snapshot((snap) => resolve(snap.bytes)));
}

function capture(s: Screen, opts: Partial<{ lines: number; scrollback: boolean; since: number; ansi: boolean }> = {}) {
  return s.capture({ lines: opts.lines ?? null, scrollback: opts.scrollback ?? false, ansi: opts.ansi ?? false, since: opts.since ?? null });
}

/** The mirror's replay against a terminal fed the same output that keeps the whole history live. */
async function replayDiff(s: Screen, input: string, cols = COLS, rows = ROWS): Promise<string[]> {
  const truth = term(cols, rows, 10 * HISTORY);
  await write(truth, input);
  const replay = term(cols, rows, 10 * HISTORY);
  await write(replay, BEFORE_REPLAY + (await snapshot(s)).toString('utf8'));
  // The promised history and the screen, cell by cell (the mirror keeps whole chunks: a few more lines).
  const out = diff(picture(truth, HISTORY + rows), picture(replay, HISTORY + rows));
  truth.dispose();
  replay.dispose();
  return out;
}

describe('HistoryArchive', () => {
  const chunk = (start: number, end: number) => ({ start, end, cols: COLS, bytes: Buffer.from(lines(start, end + 1)) });

  it('keeps contiguous chunks, drops everything before a gap, and bounds from the oldest', () => {
    const a = new HistoryArchive();
    a.add(chunk(10, 14));
    a.add(chunk(15, 19));
    expect([a.first, a.next, a.lineCount]).toEqual([10, 20, 10]);
    a.add(chunk(15, 19)); // moved twice: ignored
    expect(a.parts()).toHaveLength(2);
    a.keepFrom(15);
    expect([a.first, a.next]).toEqual([15, 20]);
    a.add(chunk(30, 34)); // lines 20-29 lost: the older ones go too
    expect([a.first, a.next]).toEqual([30, 35]);
    expect(a.parts()).toEqual([chunk(30, 34).bytes]);
  });

  it('keeps its chunks compressed, each in memory of its own size, and gives back the very bytes made', () => {
    const a = new HistoryArchive();
    const made = [chunk(0, 199), chunk(200, 399), chunk(400, 599)];
    for (const c of made) a.add(c);
    const raw = made.reduce((n, c) => n + c.bytes.length, 0);
    expect(a.parts()).toEqual(made.map((c) => c.bytes));
    // Coloured lines much alike, as a build log's: several times smaller.
    expect(a.bytes).toBeGreaterThan(0);
    expect(a.bytes).toBeLessThan(raw / 4);
    // Not slices of zlib's 16 KiB output buffer, which a kept slice would hold whole.
    const packed = (a as unknown as { chunks: Array<{ packed: Buffer }> }).chunks.map((c) => c.packed);
    expect(packed.reduce((n, p) => n + p.buffer.byteLength, 0)).toBe(a.bytes);
    a.keepFrom(200);
    expect(a.bytes).toBe(packed[1]!.length + packed[2]!.length);
    a.clear();
    expect([a.bytes, a.first]).toEqual([0, null]);
  });

  it('reads its lines back, plain and with colours', () => {
    const a = new HistoryArchive();
    a.add(chunk(0, 9));
    a.add(chunk(10, 19));
    expect(a.lines(8, 12, false).map((l) => l.trimEnd())).toEqual([8, 9, 10, 11].map((i) => `line ${String(i).padStart(5, '0')} ${'x'.repeat(i % 30)}`.trimEnd()));
    expect(a.lines(3, 4, true)[0]).toBe(`\x1b[0;1;33mline 00003\x1b[0m xxx`);
  });
});

describe('maxScrolls', () => {
  it('bounds the lines a chunk can scroll', () => {
    expect(maxScrolls(Buffer.from('a\nb\x0bc\x0cd\x1bDe\x1bE'), 80)).toBe(5 + 0 + 1);
    expect(maxScrolls(Buffer.from('x'.repeat(200)), 80)).toBe(2 + 1);
    expect(maxScrolls(Buffer.from('\x1b[31mred\x1b'), 80)).toBe(1 + 1);
  });
});

describe('Screen: the history past the live window', () => {
  it('replays a history far past the live window exactly, and captures it whole with continuous numbers', async () => {
    const s = screen();
    const input = lines(0, 1000);
    s.write(Buffer.from(input));
    await settle(s);
    expect(s.liveHistoryLines).toBeLessThanOrEqual(LIVE + CHUNK + 2);
    expect(await replayDiff(s, input)).toEqual([]);
    const all = capture(s, { scrollback: true });
    const got = all.text.split('\n');
    // The promised history (at least HISTORY lines above the screen), then the screen.
    expect(got.length).toBeGreaterThanOrEqual(HISTORY);
    expect(got.length).toBeLessThan(HISTORY + CHUNK + ROWS);
    const first = all.firstLine!;
    got.forEach((l, k) => expect(l).toBe(`line ${String(first + k).padStart(5, '0')} ${'x'.repeat((first + k) % 30)}`.trimEnd()));
    // Old lines read with since, and the next capture goes on from nextLine.
    const old = capture(s, { since: first + 5, lines: 3 });
    expect(old.text.split('\n')[0]).toContain('line');
    const from = capture(s, { since: first + 5 });
    expect(from.firstLine).toBe(first + 5);
    expect(from.text.split('\n')[0]).toBe(got[5]);
    expect(capture(s, { since: first - 10 }).skipped).toBe(10);
    expect(all.nextLine).toBe(1000);
    s.write(Buffer.from(lines(1000, 1010)));
    await settle(s);
    expect(capture(s, { since: all.nextLine! }).text.split('\n')).toEqual(Array.from({ length: 10 }, (_, k) => `line ${String(1000 + k).padStart(5, '0')} ${'x'.repeat((1000 + k) % 30)}`.trimEnd()));
    // With colours too.
    expect(capture(s, { since: first, lines: 1, ansi: true, scrollback: true }).text).not.toBe('');
    const now = capture(s, { scrollback: true });
    const top = now.firstLine!;
    expect(capture(s, { since: top, ansi: true }).text.split('\n')[0]).toBe(`\x1b[0;1;3${top % 8}mline ${String(top).padStart(5, '0')}\x1b[0m ${'x'.repeat(top % 30)}`.trimEnd());
    const fin = s.finalScreen();
    expect(fin.firstLine).toBe(top);
    expect(fin.lines.map((l) => l.trimEnd()).slice(0, now.text.split('\n').length)).toEqual(now.text.split('\n'));
    expect(fin.ansiLines.length).toBe(fin.lines.length);
    s.dispose();
  });

  it('keeps the archived lines as they were across a resize, and numbers on', async () => {
    const s = screen();
    s.write(Buffer.from(lines(0, 600)));
    await settle(s);
    const before = capture(s, { scrollback: true });
    s.resize(30, 5);
    s.write(Buffer.from(lines(600, 700)));
    await settle(s);
    const after = capture(s, { scrollback: true });
    expect(after.nextLine).toBeGreaterThanOrEqual(700);
    // Every line still there, in order (the live ones reflowed to 30 columns).
    const text = after.text.replace(/\n/g, '');
    for (let i = 500; i < 700; i++) expect(text).toContain(`line ${String(i).padStart(5, '0')}`);
    expect(after.firstLine).toBeGreaterThanOrEqual(before.firstLine!);
    // The replay holds the same text as capture (a viewer's terminal of the new width wraps
    // the archived 40-column lines where capture gives them as they were made).
    const t = term(30, 5, 2000);
    await write(t, BEFORE_REPLAY + (await snapshot(s)).toString('utf8'));
    const replayed: string[] = [];
    for (let y = 0; y < t.buffer.normal.length; y++) replayed.push(t.buffer.normal.getLine(y)!.translateToString(true).trimEnd());
    expect(replayed.join('').trimEnd()).toBe(after.text.split('\n').join(''));
    // The live lines (the last ones) row by row.
    expect(replayed.join('\n').trimEnd().endsWith(after.text.split('\n').slice(-40).join('\n'))).toBe(true);
    t.dispose();
    s.dispose();
  });

  it('keeps counting lines across a reset (RIS) and keeps what was printed before it', async () => {
    const s = screen();
    s.write(Buffer.from(lines(0, 400)));
    await settle(s);
    const before = capture(s, {});
    s.write(Buffer.from(`\x1bc${lines(400, 500)}`));
    await settle(s);
    const after = capture(s, { scrollback: true });
    expect(after.nextLine).toBe(500);
    const got = after.text.split('\n');
    got.forEach((l, k) => expect(l).toBe(`line ${String(after.firstLine! + k).padStart(5, '0')} ${'x'.repeat((after.firstLine! + k) % 30)}`.trimEnd()));
    expect(capture(s, { since: before.nextLine! - 2 }).text.split('\n')[0]).toBe(`line 00398 ${'x'.repeat(398 % 30)}`);
    // Numbering goes on after the reset: more output, more lines.
    s.write(Buffer.from(lines(500, 800)));
    await settle(s);
    expect(capture(s, {}).nextLine).toBe(800);
    expect(capture(s, { since: 700, lines: 1 }).text).toBe(`line 00799 ${'x'.repeat(799 % 30)}`);
    s.dispose();
  });

  it('forgets the archived history on an erase of the history (ED 3)', async () => {
    const s = screen();
    s.write(Buffer.from(lines(0, 400)));
    await settle(s);
    s.write(Buffer.from('\x1b[3J'));
    await settle(s);
    const c = capture(s, { scrollback: true });
    expect(c.text.split('\n').length).toBeLessThanOrEqual(ROWS);
    expect(c.nextLine).toBe(400);
    s.dispose();
  });

  it('after a skipped flood too, a replay into a terminal keeping the history and a chunk more shows exactly what capture gives', async () => {
    const s = new Screen(COLS, ROWS, HISTORY, 1 << 24, true, CHUNK, 0, LIVE);
    for (let round = 0; round < 3; round++) {
      // A flood (the mirror skips most of it), then ordinary lines archived as they come,
      // then a few more: the history's bound moves into the archive's oldest chunk.
      const at = round * 100_000;
      for (let k = 0; k < 40; k++) s.write(Buffer.from(lines(at + k * 1000, at + (k + 1) * 1000)));
      await s.flush();
      s.write(Buffer.from(lines(at + 50_000, at + 50_000 + 37 * (round + 1))));
      await settle(s);
      s.write(Buffer.from(lines(at + 50_000 + 37 * (round + 1), at + 50_000 + 40 * (round + 1))));
      await settle(s);
      const cap = capture(s, { scrollback: true });
      const got = cap.text.split('\n');
      // The promised history at least, older lines only in whole chunks.
      expect(got.length).toBeGreaterThanOrEqual(HISTORY + ROWS - 1);
      expect(got.length).toBeLessThan(HISTORY + ROWS - 1 + CHUNK);
      const last = at + 50_000 + 40 * (round + 1) - 1;
      expect(got[got.length - 1]).toBe(`line ${String(last).padStart(5, '0')} ${'x'.repeat(last % 30)}`.trimEnd());
      expect(s.historyLines).toBe(got.length + 1);
      const replay = term(COLS, ROWS, HISTORY + CHUNK);
      await write(replay, BEFORE_REPLAY + (await snapshot(s)).toString('utf8'));
      const shown: string[] = [];
      for (let y = 0; y < replay.buffer.normal.length; y++) shown.push(replay.buffer.normal.getLine(y)!.translateToString(true).trimEnd());
      while (shown.length > 0 && shown[shown.length - 1] === '') shown.pop();
      expect(shown).toEqual(got);
      replay.dispose();
      const fin = s.finalScreen();
      expect(fin.firstLine).toBe(cap.firstLine);
      expect(fin.lines.map((l) => l.trimEnd()).slice(0, got.length)).toEqual(got);
    }
    expect(s.skippedBytes).toBeGreaterThan(0);
    s.dispose();
  });

  it('keeps every line of a burst handed to xterm at once (no line leaves it unserialized)', async () => {
    const s = screen();
    const input = lines(0, 2000);
    s.write(Buffer.from(input)); // one chunk: thousands of lines parsed before any timer runs
    await settle(s);
    expect(await replayDiff(s, input)).toEqual([]);
    s.dispose();
  });
});
