import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Flood, RateMeter, RateSample } from '../../src/supervisor/flood';

// The one rate meter: a flood is a complete window over the threshold, and only while recent.

describe('rate meter', () => {
  beforeEach(() => vi.useFakeTimers({ now: 10_000 }));
  afterEach(() => vi.useRealTimers());

  it('says flooding after a window over the threshold, and not once output stops', () => {
    const m = new RateMeter();
    m.record(Flood.FloodBytesPerWindow);
    expect(m.flooding).toBe(false); // the window is not complete yet
    vi.advanceTimersByTime(Flood.RateWindowMs);
    m.record(1);
    expect(m.flooding).toBe(true);
    vi.advanceTimersByTime(2 * Flood.RateWindowMs);
    expect(m.flooding).toBe(false);
  });

  it('interactive output is never a flood', () => {
    const m = new RateMeter();
    for (let i = 0; i < 100; i++) {
      m.record(4096);
      vi.advanceTimersByTime(10);
    }
    expect(m.flooding).toBe(false);
  });

  it('reads that find the pty full, back to back, are a flood whatever the rate', () => {
    const m = new RateMeter();
    // A slow reader: 4095-byte reads 1 ms apart (4 MB/s), under the rate threshold.
    for (let i = 0; i < Flood.SaturatedReads - 1; i++) {
      m.record(4095);
      vi.advanceTimersByTime(1);
    }
    expect(m.flooding).toBe(false);
    m.record(4095);
    expect(m.flooding).toBe(true);
    expect(m.lastWindowFlooded).toBe(true);
    // One short read ends it; so does a pause.
    m.record(100);
    expect(m.flooding).toBe(false);
    for (let i = 0; i < Flood.SaturatedReads; i++) m.record(4095);
    expect(m.flooding).toBe(true);
    vi.advanceTimersByTime(2 * Flood.RateWindowMs);
    expect(m.flooding).toBe(false);
    // Full reads further apart than a flood's (a redraw now and then) never are.
    for (let i = 0; i < 100; i++) {
      m.record(4095);
      vi.advanceTimersByTime(Flood.SaturatedGapMs + 1);
    }
    expect(m.flooding).toBe(false);
  });

  it('a sample measures the rate of a counter since it was taken', () => {
    let bytes = 0;
    const s = new RateSample(() => bytes);
    vi.advanceTimersByTime(1000);
    bytes = 2 * Flood.CalmBytesPerSecond;
    expect(s.busy).toBe(true);
    s.reset();
    vi.advanceTimersByTime(1000);
    bytes += 1000;
    expect(s.busy).toBe(false);
    expect(Math.round(s.bytesPerSecond())).toBe(1000);
  });
});
