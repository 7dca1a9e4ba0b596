import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DOUBLE_PRESS_MS, DetachKeyFilter } from '../../src/detach-key';

// The detach key on a fake clock: alone it detaches after DOUBLE_PRESS_MS; twice in a
// row it is sent once; another key right after it detaches at once.

const KEY = 0x1c;

function filter() {
  const sent: string[] = [];
  let detached = 0;
  const f = new DetachKeyFilter(KEY, (d) => sent.push(d.toString('latin1')), () => detached++);
  return { f, sent, detached: () => detached };
}

describe('detach key', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes other keys through untouched', () => {
    const { f, sent, detached } = filter();
    f.push(Buffer.from('hello\r'));
    expect(sent).toEqual(['hello\r']);
    expect(detached()).toBe(0);
  });

  it('a lone press waits for a second one, then detaches', () => {
    const { f, sent, detached } = filter();
    f.push(Buffer.from('ab\x1c'));
    expect(sent).toEqual(['ab']);
    expect(f.waiting).toBe(true);
    vi.advanceTimersByTime(DOUBLE_PRESS_MS - 1);
    expect(detached()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(detached()).toBe(1);
    f.push(Buffer.from('late'));
    expect(sent).toEqual(['ab']);
  });

  it('pressed twice, in one read or in two, sends the key once', () => {
    const one = filter();
    one.f.push(Buffer.from('x\x1c\x1cy'));
    expect(one.sent).toEqual(['x', '\x1c', 'y']);
    const two = filter();
    two.f.push(Buffer.from('\x1c'));
    two.f.push(Buffer.from('\x1cz'));
    expect(two.sent).toEqual(['\x1c', 'z']);
    vi.advanceTimersByTime(DOUBLE_PRESS_MS * 2);
    expect(one.detached() + two.detached()).toBe(0);
  });

  it('another key right after a lone press detaches at once, and is not sent', () => {
    const a = filter();
    a.f.push(Buffer.from('\x1cq'));
    expect(a.detached()).toBe(1);
    expect(a.sent).toEqual([]);
    const b = filter();
    b.f.push(Buffer.from('\x1c'));
    b.f.push(Buffer.from('q'));
    expect(b.detached()).toBe(1);
    expect(b.sent).toEqual([]);
  });

  it('cancel stops a pending detach', () => {
    const { f, detached } = filter();
    f.push(Buffer.from('\x1c'));
    f.cancel();
    vi.advanceTimersByTime(DOUBLE_PRESS_MS * 2);
    expect(detached()).toBe(0);
  });
});

describe('detach key in the agent’s keyboard protocol', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reported as kitty or modifyOtherKeys (Ctrl-\\ is CSI 92;5u or CSI 27;5;92~), it still detaches', () => {
    for (const press of ['\x1b[92;5u', '\x1b[27;5;92~', '\x1b[92;5:1u', '\x1b[92;69u' /* Caps Lock on */]) {
      const { f, sent, detached } = filter();
      f.push(Buffer.from(`ab${press}`));
      expect(sent).toEqual(['ab']);
      vi.advanceTimersByTime(DOUBLE_PRESS_MS);
      expect(detached(), press).toBe(1);
    }
  });

  it('its release event and the modifier keys themselves neither detach nor count as the next key', () => {
    const { f, sent, detached } = filter();
    // kitty flags 2|8: Ctrl pressed, \ pressed, \ released, Ctrl released, then \ again.
    f.push(Buffer.from('\x1b[57442;5u\x1b[92;5u'));
    f.push(Buffer.from('\x1b[92;5:3u\x1b[57442;5:3u'));
    expect(f.waiting).toBe(true);
    f.push(Buffer.from('\x1b[92;5u'));
    expect(sent).toEqual(['\x1b[57442;5u', '\x1b[92;5u']);
    expect(detached()).toBe(0);
    // A release of another key after a normal key passes through.
    f.push(Buffer.from('a\x1b[97;1:3u'));
    expect(sent.slice(2)).toEqual(['a\x1b[97;1:3u']);
  });

  it('followed by r it asks for a redraw and stays attached; without a redraw handler r detaches', () => {
    const redraws: number[] = [];
    const sent: string[] = [];
    let detached = 0;
    const f = new DetachKeyFilter(KEY, (d) => sent.push(d.toString('latin1')), () => detached++, () => redraws.push(1));
    f.push(Buffer.from('x\x1cry'));
    f.push(Buffer.from('\x1c'));
    f.push(Buffer.from('r'));
    f.push(Buffer.from('\x1b[27;5;92~\x1b[114u'));
    vi.advanceTimersByTime(DOUBLE_PRESS_MS * 2);
    expect(redraws).toHaveLength(3);
    expect(detached).toBe(0);
    expect(sent).toEqual(['x', 'y']);
    const plain = filter();
    plain.f.push(Buffer.from('\x1cr'));
    expect(plain.detached()).toBe(1);
  });
});
