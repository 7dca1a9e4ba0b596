import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HINT_MS, StreamBoundary, TitleHint, detachKeyName, hintText, hintWanted, safeTitle, snapshotTitle } from '../../src/attach-hint';

// The attach hint's parts: the key's name, the off switch, the stream boundary it waits
// for before taking the title back, and the hint's life on a fake clock.

function fed(...chunks: Array<string | Buffer>): StreamBoundary {
  const s = new StreamBoundary();
  for (const c of chunks) s.feed(c);
  return s;
}

describe('attach hint: words and switches', () => {
  it('names the detach key as people write it', () => {
    expect(detachKeyName(0x1c)).toBe('Ctrl-\\');
    expect(detachKeyName(0x1d)).toBe('Ctrl-]');
    expect(detachKeyName(0x02)).toBe('Ctrl-b');
    expect(detachKeyName(0x7f)).toBe('Ctrl-?');
    expect(hintText('demo', 0x1c)).toBe('Ctrl-\\ to detach from demo');
  });

  it('is on by default; --no-hint or SYMPOSIUM_ATTACH_HINT=0 turn it off', () => {
    expect(hintWanted(undefined, {})).toBe(true);
    expect(hintWanted(undefined, { SYMPOSIUM_ATTACH_HINT: '1' })).toBe(true);
    expect(hintWanted(undefined, { SYMPOSIUM_ATTACH_HINT: '0' })).toBe(false);
    expect(hintWanted(false, {})).toBe(false);
    expect(hintWanted(true, { SYMPOSIUM_ATTACH_HINT: '0' })).toBe(true);
  });

  it('keeps control characters out of a title', () => {
    expect(safeTitle('a\x07b\x1b]2;c\x9bd')).toBe('ab]2;cd');
    expect(safeTitle('x'.repeat(500))).toHaveLength(200);
  });

  it('finds the title a snapshot sets, in bytes or text', () => {
    const snap = '\x1b[Hhello\x1b]8;;\x1b\\\x1b]2;my title\x07\x1b[?25l';
    expect(snapshotTitle(snap)).toBe('my title');
    expect(snapshotTitle(Buffer.from(snap))).toBe('my title');
    expect(snapshotTitle('plain')).toBeNull();
  });
});

describe('attach hint: stream boundaries', () => {
  it('text and whole sequences end at a boundary', () => {
    expect(fed('hello \x1b[1;31mred\x1b[0m\r\n').atBoundary).toBe(true);
    expect(fed('\x1b(B\x1b=\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\').atBoundary).toBe(true);
    expect(fed('\x1bP+q544e\x1b\\').atBoundary).toBe(true);
  });

  it('a sequence split across chunks is not a boundary until it ends', () => {
    for (const [a, b] of [
      ['x\x1b', '[31m'],
      ['x\x1b[3', '1m'],
      ['\x1b]2;half', ' a title\x07'],
      ['\x1b]2;st', '\x1b\\'],
      ['\x1b(', 'B'],
      ['\x1bP1$r', '0m\x1b\\'],
    ] as const) {
      const s = fed(a);
      expect(s.atBoundary, JSON.stringify(a)).toBe(false);
      s.feed(b);
      expect(s.atBoundary, JSON.stringify(a + b)).toBe(true);
    }
  });

  it('a UTF-8 character split across chunks is not a boundary until it ends', () => {
    const euro = Buffer.from('€'); // e2 82 ac
    const s = fed(Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]));
    expect(s.atBoundary).toBe(false);
    s.feed(euro.subarray(1, 2));
    expect(s.atBoundary).toBe(false);
    s.feed(euro.subarray(2));
    expect(s.atBoundary).toBe(true);
    const emoji = Buffer.from('😀');
    expect(fed(emoji.subarray(0, 3)).atBoundary).toBe(false);
    expect(fed(emoji).atBoundary).toBe(true);
  });

  it('CAN aborts a sequence; ESC inside a string starts a new one', () => {
    expect(fed('\x1b[12\x18').atBoundary).toBe(true);
    const s = fed('\x1b]2;abc\x1b[');
    expect(s.atBoundary).toBe(false);
    s.feed('m');
    expect(s.atBoundary).toBe(true);
    expect(s.windowTitle).toBeNull(); // an aborted OSC sets nothing
  });

  it('remembers the titles set, to write them again', () => {
    const s = fed('\x1b]2;win\x07', '\x1b]1;ico', 'n\x1b\\');
    expect([s.windowTitle, s.iconTitle]).toEqual(['win', 'icon']);
    expect(s.titlesAgain()).toBe('\x1b]1;icon\x07\x1b]2;win\x07');
    s.feed('\x1b]0;both ✓\x07');
    expect(s.titlesAgain()).toBe('\x1b]0;both ✓\x07');
  });
});

describe('attach hint: its life', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function hint() {
    const out: string[] = [];
    let expired = 0;
    const h = new TitleHint('Ctrl-\\ to detach from t', (b) => out.push(b), { expired: () => expired++ });
    return { h, out, expired: () => expired };
  }

  it('pushes the title and shows the hint after the replay, pops it after HINT_MS', () => {
    const { h, out, expired } = hint();
    h.start('\x1b[Hscreen\x1b]2;agent\x07');
    expect(out).toEqual(['\x1b[22;0t\x1b]2;Ctrl-\\ to detach from t\x07']);
    vi.advanceTimersByTime(HINT_MS - 1);
    expect(out).toHaveLength(1);
    vi.advanceTimersByTime(1);
    // The pop, then the agent's title again (for terminals without a title stack).
    expect(out[1]).toBe('\x1b[23;0t\x1b]2;agent\x07');
    expect(expired()).toBe(1);
    expect(h.showing).toBe(false);
    h.output('more');
    h.end();
    expect(out).toHaveLength(2);
  });

  it('waits for the end of a sequence the agent is in the middle of', () => {
    const { h, out } = hint();
    h.start('screen');
    h.output('abc\x1b[3');
    vi.advanceTimersByTime(HINT_MS);
    expect(out).toHaveLength(1); // not inside `ESC [ 3`
    h.output('1');
    expect(out).toHaveLength(1);
    h.output('mred');
    expect(out[1]).toBe('\x1b[23;0t'); // no title set by anyone: the pop alone
  });

  it('writes again a title the agent set while the hint showed', () => {
    const { h, out } = hint();
    h.start('\x1b]2;old\x07');
    h.output('\x1b]0;new\x07');
    vi.advanceTimersByTime(HINT_MS);
    expect(out[1]).toBe('\x1b[23;0t\x1b]0;new\x07');
  });

  it('ended early (detach, resync) it pops at once and does not count as expired', () => {
    const { h, out, expired } = hint();
    h.start('s');
    h.end();
    expect(out[1]).toBe('\x1b[23;0t');
    vi.advanceTimersByTime(HINT_MS * 2);
    expect(out).toHaveLength(2);
    expect(expired()).toBe(0);
    h.start('again'); // only once per attach
    expect(out).toHaveLength(2);
  });

  it('an owner that must first stop another writer restores when it says; followed output alone never restores', () => {
    const out: string[] = [];
    let due = 0;
    const h = new TitleHint('hint', (b) => out.push(b), { due: () => due++ });
    h.start('s');
    vi.advanceTimersByTime(HINT_MS);
    expect(due).toBe(1);
    h.track('relayed \x1b[3'); // written by the relay: followed only
    h.track('1m');
    expect(out).toHaveLength(1);
    h.track('x\x1b[');
    h.tryRestore(); // inside a sequence: not yet
    expect(out).toHaveLength(1);
    h.output('m');
    expect(out[1]).toBe('\x1b[23;0t');
  });

  it('never shown, it writes nothing on end', () => {
    const { h, out } = hint();
    h.end();
    h.start('s');
    expect(out).toEqual([]);
  });
});
