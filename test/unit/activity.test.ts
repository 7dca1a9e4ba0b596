import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Activity, SIGNAL_SETTLE_MS } from '../../src/supervisor/driving/activity';
import { START_GRACE_MS } from '../../src/start-grace';

// Activity on a fake clock: quiet output for the threshold is idle; a waiting signal in
// the latest chunk makes it idle after a short settle; later output cancels the signal;
// nothing drawn yet, not idle until the start grace is over.

describe('activity', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('is working until the output has been quiet for the threshold', () => {
    let seq = 0;
    const a = new Activity(2000, () => seq);
    a.drew();
    seq = 1;
    a.output();
    vi.advanceTimersByTime(1999);
    expect(a.isIdle()).toBe(false);
    expect(a.msUntilIdle()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(a.isIdle()).toBe(true);
    expect(a.msUntilIdle()).toBe(0);
    // A wait with its own threshold.
    expect(a.isIdle(5000)).toBe(false);
    expect(a.msUntilIdle(5000)).toBe(3000);
  });

  it('nothing drawn yet: not idle, however quiet, until the start grace is over', () => {
    let seq = 0;
    const a = new Activity(2000, () => seq);
    seq = 1;
    a.output(); // a query, a title: nothing on the screen
    vi.advanceTimersByTime(2600);
    expect(a.isIdle()).toBe(false);
    expect(a.msUntilIdle()).toBe(START_GRACE_MS - 2600);
    // A signal does not shorten it either.
    a.waitingSignal(1);
    expect(a.isIdle()).toBe(false);
    vi.advanceTimersByTime(START_GRACE_MS - 2600);
    expect(a.isIdle()).toBe(true);
  });

  it('once something is drawn, quiet output counts again (from the last output)', () => {
    let seq = 0;
    const a = new Activity(2000, () => seq);
    vi.advanceTimersByTime(3000);
    seq = 1;
    a.output();
    a.drew();
    expect(a.msUntilIdle()).toBe(2000);
    vi.advanceTimersByTime(2000);
    expect(a.isIdle()).toBe(true);
  });

  it('a program that never prints at all is idle once the grace is over', () => {
    const a = new Activity(2000, () => 0);
    vi.advanceTimersByTime(2000);
    expect(a.isIdle()).toBe(false);
    vi.advanceTimersByTime(START_GRACE_MS - 2000);
    expect(a.isIdle()).toBe(true);
  });

  it('a waiting signal in the latest chunk makes it idle once output pauses briefly', () => {
    let seq = 0;
    const a = new Activity(10_000, () => seq);
    a.drew();
    seq = 1;
    a.output();
    a.waitingSignal(1);
    expect(a.msUntilIdle()).toBe(SIGNAL_SETTLE_MS);
    vi.advanceTimersByTime(SIGNAL_SETTLE_MS);
    expect(a.isIdle()).toBe(true);
  });

  it('output after the signal cancels it', () => {
    let seq = 0;
    const a = new Activity(10_000, () => seq);
    a.drew();
    seq = 1;
    a.output();
    a.waitingSignal(1);
    seq = 2;
    a.output();
    vi.advanceTimersByTime(SIGNAL_SETTLE_MS * 2);
    expect(a.isIdle()).toBe(false);
    expect(a.msUntilIdle()).toBe(10_000 - SIGNAL_SETTLE_MS * 2);
  });
});
