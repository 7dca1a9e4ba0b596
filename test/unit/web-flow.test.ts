import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrowserFlow } from '../../src/web/flow';
import type { PageMessage } from '../../src/web/messages';

// One browser's flow control on a fake clock: output goes out up to the bound of
// unacknowledged characters, is dropped past it, and a page that has caught up is given
// one fresh screen: once the output pauses, or after the longest wait while it goes on,
// never sooner than the gap after the last one.

const LIMITS = { UnackedChars: 100, ResyncGapMs: 500, ResyncCalmMs: 100, ResyncMaxWaitMs: 5000, ResyncCostFactor: 20 };

function setup() {
  const sent: PageMessage[] = [];
  let wanted = 0;
  const flow = new BrowserFlow((m) => sent.push(m), () => wanted++, LIMITS);
  const chars = () => sent.reduce((n, m) => n + (m.t === 'o' || m.t === 'screen' ? m.d.length : 0), 0);
  return { flow, sent, chars, wanted: () => wanted };
}

const screen = (d: string): Extract<PageMessage, { t: 'screen' }> => ({ t: 'screen', v: 1, d, cols: 80, rows: 24 });

describe('browser flow control', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('sends while at most the bound is unacknowledged, then drops, and counts what it dropped', () => {
    const { flow, sent, chars } = setup();
    flow.screen(screen('S'.repeat(10)));
    for (let i = 0; i < 20; i++) flow.output('x'.repeat(10));
    // 10 + 10 x 10 = 110 > 100: the eleventh chunk was the last to go.
    expect(chars()).toBe(110);
    expect(sent.filter((m) => m.t === 'o')).toHaveLength(10);
    expect(flow.isBehind).toBe(true);
    expect(flow.stats).toEqual({ sentChars: 110, droppedChars: 100, resyncs: 0, slowestScreenMs: 0 });
    // Acknowledging part of it does not resume a page that is behind: the backlog is gone.
    expect(flow.ack(50)).toBe(true);
    flow.output('y');
    expect(chars()).toBe(110);
  });

  it('a page that keeps up is never behind', () => {
    const { flow, chars } = setup();
    for (let i = 0; i < 1000; i++) {
      flow.output('x'.repeat(60));
      expect(flow.ack(chars())).toBe(true);
    }
    expect(flow.isBehind).toBe(false);
    expect(flow.stats.droppedChars).toBe(0);
  });

  it('refuses an acknowledgement of more than was sent, or one that goes back', () => {
    const { flow } = setup();
    flow.output('x'.repeat(10));
    expect(flow.ack(11)).toBe(false);
    expect(flow.ack(8)).toBe(true);
    expect(flow.ack(7)).toBe(false);
    expect(flow.ack(10)).toBe(true);
    expect(flow.caughtUp).toBe(true);
  });

  it('once caught up, asks for a fresh screen when the output pauses, and resumes with it', () => {
    const { flow, sent, chars, wanted } = setup();
    flow.screen(screen('replay'));
    vi.advanceTimersByTime(1000);
    for (let i = 0; i < 12; i++) flow.output('x'.repeat(10));
    expect(flow.isBehind).toBe(true);
    flow.ack(chars());
    expect(wanted()).toBe(0); // output just came: it may go on
    vi.advanceTimersByTime(99);
    expect(wanted()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(wanted()).toBe(1);
    expect(flow.stats.resyncs).toBe(1);
    // Still behind until the screen comes: output meanwhile is dropped.
    flow.output('z');
    expect(sent.at(-1)).toMatchObject({ t: 'o', d: 'x'.repeat(10) });
    flow.screen(screen('fresh'));
    expect(flow.isBehind).toBe(false);
    flow.output('after');
    expect(sent.at(-1)).toEqual({ t: 'o', d: 'after' });
  });

  it('while the output goes on, a fresh screen after the longest wait, and never two within the gap', () => {
    const { flow, chars, wanted } = setup();
    const floodFor = (ms: number) => {
      for (let t = 0; t < ms; t += 10) {
        // More per 10 ms than the bound: the page falls behind however fast it acknowledges.
        for (let i = 0; i < 5; i++) flow.output('x'.repeat(30));
        flow.ack(chars());
        vi.advanceTimersByTime(10);
      }
    };
    flow.screen(screen('replay'));
    floodFor(4900);
    // The output never paused: not before 5 s after the last screen.
    expect(wanted()).toBe(0);
    floodFor(200);
    expect(wanted()).toBe(1);
    flow.screen(screen('s1'));
    floodFor(4900);
    expect(wanted()).toBe(1);
    floodFor(200);
    expect(wanted()).toBe(2);
    flow.screen(screen('s2'));
    // The flood stops right away: calm, but within the gap of the last screen.
    for (let i = 0; i < 5; i++) flow.output('x'.repeat(30));
    flow.ack(chars());
    vi.advanceTimersByTime(400);
    expect(wanted()).toBe(2);
    vi.advanceTimersByTime(100);
    expect(wanted()).toBe(3);
  });

  it('waits longer in a flood when fresh screens cost more to make', () => {
    const { flow, chars, wanted } = setup();
    // It took 400 ms to get: the next one no sooner than 20 x 400 ms later while the output goes on.
    flow.screen(screen('replay'), 400);
    for (let t = 0; t < 7990; t += 10) {
      for (let i = 0; i < 5; i++) flow.output('x'.repeat(30));
      flow.ack(chars());
      vi.advanceTimersByTime(10);
    }
    expect(wanted()).toBe(0);
    flow.output('x');
    vi.advanceTimersByTime(20);
    expect(wanted()).toBe(1);
    expect(flow.stats.slowestScreenMs).toBe(400);
  });

  it('a new view cancels the fresh screen asked for the old one', () => {
    const { flow, chars, wanted } = setup();
    flow.screen(screen('replay'));
    for (let i = 0; i < 12; i++) flow.output('x'.repeat(10));
    flow.ack(chars());
    flow.viewChanged();
    vi.advanceTimersByTime(10_000);
    expect(wanted()).toBe(0);
    expect(flow.isBehind).toBe(false);
  });
});
