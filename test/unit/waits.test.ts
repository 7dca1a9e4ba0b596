import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProtocolError } from '../../src/protocol/messages';
import { MAX_WAITERS, type WaitHost, Waits } from '../../src/supervisor/driving/waits';
import { TextPattern } from '../../src/text-pattern';

// Waits on a fake clock and a fake host: answered once, when the condition holds, at the
// timeout (satisfied: false) or at the end; dropped with their connection; bounded.

function host(): WaitHost & { idleAt: number; text: string; ended: boolean; exitInfo: { code: number | null; signal: string | null } | null } {
  return {
    idleAt: Infinity,
    text: '',
    ended: false,
    exitInfo: null,
    state() {
      return Date.now() >= this.idleAt ? 'idle' : 'working';
    },
    stateWith() {
      return this.state();
    },
    nextCheckMs() {
      return Date.now() >= this.idleAt ? null : this.idleAt - Date.now();
    },
    task: () => null,
    visibleText() {
      return this.text;
    },
  };
}

describe('waits', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1000 }));
  afterEach(() => vi.useRealTimers());

  it('an idle wait is answered when the host says idle; a timeout answers satisfied: false', async () => {
    const h = host();
    const w = new Waits(h);
    h.idleAt = 1500;
    const idle = w.add({}, { until: 'idle', idleMs: 2000 }, null);
    const timed = w.add({}, { until: 'exit' }, 300);
    await vi.advanceTimersByTimeAsync(300);
    expect(await timed).toMatchObject({ satisfied: false, ended: false });
    await vi.advanceTimersByTimeAsync(300);
    expect(await idle).toMatchObject({ satisfied: true });
  });

  it('an idle wait whose threshold passes between the look at the state and the look for the next check is answered, not left', async () => {
    const h = host();
    const w = new Waits(h);
    h.idleAt = 1500;
    // The clock moves between the two: the state is still working, no threshold is ahead.
    let looks = 0;
    h.stateWith = function () {
      looks++;
      return looks === 1 ? 'working' : this.state();
    };
    h.nextCheckMs = () => {
      vi.setSystemTime(1500);
      return null;
    };
    const idle = w.add({}, { until: 'idle', idleMs: 500 }, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await idle).toMatchObject({ satisfied: true }); // not its timeout's satisfied: false
  });

  it('a text wait matches after the screen changes, and at the end checks the final screen once', async () => {
    const h = host();
    const w = new Waits(h);
    const p = w.add({}, { until: 'text', re: TextPattern.compile('done \\d+', '') }, null);
    h.text = 'working';
    w.screenChanged();
    await vi.advanceTimersByTimeAsync(100);
    h.text = 'all done 42';
    w.screenChanged();
    await vi.advanceTimersByTimeAsync(100);
    expect(await p).toMatchObject({ satisfied: true, match: 'done 42' });
    const never = w.add({}, { until: 'text', re: TextPattern.compile('zzz', '') }, null);
    h.ended = true;
    h.exitInfo = { code: 3, signal: null };
    w.agentEnded();
    expect(await never).toEqual({ satisfied: false, ended: true, exitCode: 3, exitSignal: null, match: null, state: 'working', task: null });
  });

  it('waits of a closed connection are dropped; past MAX_WAITERS a wait is refused with busy', async () => {
    const h = host();
    const w = new Waits(h);
    const owner = {};
    const settled = vi.fn();
    void w.add(owner, { until: 'exit' }, 100).then(settled, settled);
    w.ownerGone(owner);
    await vi.advanceTimersByTimeAsync(500);
    expect(settled).not.toHaveBeenCalled();
    const many = Array.from({ length: MAX_WAITERS }, () => w.add({}, { until: 'exit' }, null));
    await expect(w.add({}, { until: 'exit' }, null)).rejects.toMatchObject({ code: 'busy' });
    await expect(w.add({}, { until: 'exit' }, null)).rejects.toBeInstanceOf(ProtocolError);
    h.ended = true;
    w.agentEnded();
    expect((await Promise.all(many)).every((r) => r.satisfied)).toBe(true);
  });
});
