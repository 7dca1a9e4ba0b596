import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BURST_BYTES, CALM_MACHINE_SHARE, COLLECT_AFTER_CALM_MS, CalmCollector, SETTLE_GC_DELAY_MS, SETTLE_GC_MAX_LOOKS, collectAfterStart } from '../../src/supervisor/lifecycle/settle-gc';
import { type MachineCpu, busyShare, parseMachineCpu } from '../../src/sys/proc';

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

describe('collectAfterStart', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A machine whose CPUs were busy `share` of the time up to the next reading (100 ticks between readings). */
  function machine(): { read: () => MachineCpu; busy(share: number): void } {
    let busy = 0;
    let total = 0;
    let rate = 0;
    return {
      read: () => {
        busy += 100 * rate;
        total += 100;
        return { busy, total };
      },
      busy(share: number) {
        rate = share;
      },
    };
  }

  it('collects at the first look that finds the machine calm', () => {
    const m = machine();
    let runs = 0;
    collectAfterStart(() => runs++, m.read);
    vi.advanceTimersByTime(SETTLE_GC_DELAY_MS - 1);
    expect(runs).toBe(0);
    vi.advanceTimersByTime(1);
    expect(runs).toBe(1);
    vi.advanceTimersByTime(100 * SETTLE_GC_DELAY_MS);
    expect(runs).toBe(1); // once
  });

  it('waits while the machine is busy (a spawn storm), then collects once', () => {
    const m = machine();
    m.busy(1);
    let runs = 0;
    collectAfterStart(() => runs++, m.read);
    vi.advanceTimersByTime(3 * SETTLE_GC_DELAY_MS);
    expect(runs).toBe(0);
    m.busy(CALM_MACHINE_SHARE + 0.01);
    vi.advanceTimersByTime(SETTLE_GC_DELAY_MS);
    expect(runs).toBe(0);
    m.busy(CALM_MACHINE_SHARE); // at the threshold: calm enough
    vi.advanceTimersByTime(SETTLE_GC_DELAY_MS);
    expect(runs).toBe(1);
    vi.advanceTimersByTime(100 * SETTLE_GC_DELAY_MS);
    expect(runs).toBe(1);
  });

  it('collects anyway on a machine busy for good, after its last look', () => {
    const m = machine();
    m.busy(1);
    let runs = 0;
    collectAfterStart(() => runs++, m.read);
    vi.advanceTimersByTime((SETTLE_GC_MAX_LOOKS - 1) * SETTLE_GC_DELAY_MS);
    expect(runs).toBe(0);
    vi.advanceTimersByTime(SETTLE_GC_DELAY_MS);
    expect(runs).toBe(1);
    vi.advanceTimersByTime(100 * SETTLE_GC_DELAY_MS);
    expect(runs).toBe(1);
  });

  it('collects at the first look where the machine cannot be read', () => {
    let runs = 0;
    collectAfterStart(() => runs++, () => null);
    vi.advanceTimersByTime(SETTLE_GC_DELAY_MS);
    expect(runs).toBe(1);
  });

  it('does nothing without an exposed gc, and keeps nothing alive', () => {
    collectAfterStart(null, () => null);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('parseMachineCpu', () => {
  it('reads the all-CPUs line: busy is all but idle and iowait; guest time is not counted twice', () => {
    const text = 'cpu  100 20 30 400 50 6 7 8 90 10\ncpu0 1 2 3 4 5 6 7 8 9 10\nbtime 1\n';
    expect(parseMachineCpu(text)).toEqual({ busy: 100 + 20 + 30 + 6 + 7 + 8, total: 100 + 20 + 30 + 400 + 50 + 6 + 7 + 8 });
    expect(busyShare({ busy: 10, total: 100 }, { busy: 60, total: 200 })).toBe(0.5);
    expect(busyShare({ busy: 10, total: 100 }, { busy: 10, total: 100 })).toBe(0);
  });

  it('refuses what is not that line', () => {
    expect(parseMachineCpu('')).toBeNull();
    expect(parseMachineCpu('cpu0 1 2 3 4 5 6 7 8\n')).toBeNull();
    expect(parseMachineCpu('cpu  1 2 3\n')).toBeNull();
    expect(parseMachineCpu('cpu  1 2 x 4 5 6 7 8\n')).toBeNull();
  });
});
