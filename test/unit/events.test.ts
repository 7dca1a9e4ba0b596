import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventJournal } from '../../src/supervisor/driving/events';

describe('event journal', () => {
  beforeEach(() => vi.useFakeTimers({ now: 5000 }));
  afterEach(() => vi.useRealTimers());

  it('numbers events, reads after a number, and says how many a slow reader lost', () => {
    const j = new EventJournal(1, () => {}, 3);
    for (let i = 1; i <= 5; i++) j.add({ type: 'resize', cols: i, rows: 1 });
    expect(j.nextSeq).toBe(6);
    const all = j.read(1, 100);
    expect(all.lost).toBe(2);
    expect(all.events.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(all.next).toBe(6);
    expect(j.read(4, 1)).toMatchObject({ lost: 0, next: 5, events: [{ seq: 4, type: 'resize', cols: 4, at: 5000 }] });
    expect(j.read(6, 10)).toEqual({ events: [], next: 6, lost: 0 });
  });

  it('a long poll wakes at the next event, or after its time', async () => {
    const persisted: number[] = [];
    const j = new EventJournal(1, (e) => persisted.push(e.seq));
    const woke = vi.fn();
    void j.nextEvent(10_000).done.then(woke);
    await vi.advanceTimersByTimeAsync(100);
    expect(woke).not.toHaveBeenCalled();
    j.add({ type: 'notification', text: 'hi', source: 'bell' });
    expect(persisted).toEqual([1]);
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toHaveBeenCalledOnce();
    const late = vi.fn();
    void j.nextEvent(300).done.then(late);
    await vi.advanceTimersByTimeAsync(300);
    expect(late).toHaveBeenCalledOnce();
  });
});
