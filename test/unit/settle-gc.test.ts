import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BURST_BYTES, COLLECT_AFTER_CALM_MS, CalmCollector } from '../../src/supervisor/lifecycle/settle-gc';

describe('CalmCollector', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('collects some seconds after the output calms down after a burst, once per burst', () => {
    let runs = 0;
    const c = new CalmCollector(() => runs++);
    c.calm(BURST_BYTES - 1);
    vi.advanceTimersByTime(COLLECT_AFTER_CALM_MS);
    expect(runs).toBe(0); // a screenful now and then is not a burst
    c.calm(BURST_BYTES);
    vi.advanceTimersByTime(COLLECT_AFTER_CALM_MS - 1);
    expect(runs).toBe(0); // V8 would not give the young generation back yet
    c.calm(BURST_BYTES + 5 * BURST_BYTES); // calm again meanwhile: still one collection
    vi.advanceTimersByTime(1);
    expect(runs).toBe(1);
    c.calm(BURST_BYTES + 10);
    vi.advanceTimersByTime(COLLECT_AFTER_CALM_MS);
    expect(runs).toBe(1); // no new burst
    c.calm(2 * BURST_BYTES + 10);
    vi.advanceTimersByTime(COLLECT_AFTER_CALM_MS);
    expect(runs).toBe(2);
  });

  it('does nothing without an exposed gc', () => {
    const c = new CalmCollector(null);
    c.calm(10 * BURST_BYTES);
    expect(vi.getTimerCount()).toBe(0);
  });
});
