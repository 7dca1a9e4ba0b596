import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentState, FOREGROUND_POLL_MS, NOTIFY_SETTLE_MS, type StateHost, type StateNow } from '../../src/supervisor/driving/agent-state';
import { START_GRACE_MS } from '../../src/start-grace';

// The state machine on a fake clock and a fake host: the agent's word first, then the
// generic rules (no output yet, a foreground job, a notification, quiet output).

function setup(idleMs = 2000) {
  let lastOutput = 0;
  let had = false;
  let job: string | null = null;
  let seq = 0;
  const host: StateHost = {
    latestSeq: () => seq,
    now: () => Date.now(),
    idleMs,
    quietFor: () => Date.now() - lastOutput,
    hadOutput: () => had,
    foregroundJob: () => job,
  };
  const changes: StateNow[] = [];
  const s = new AgentState(host, (n) => changes.push(n));
  lastOutput = Date.now();
  return {
    s,
    changes,
    print(notice: string | null = null) {
      had = true;
      lastOutput = Date.now();
      seq++;
      if (notice !== null) s.noticed(seq, notice);
      else s.update();
    },
    setJob(j: string | null) {
      job = j;
    },
    states: () => changes.map((c) => c.state),
  };
}

describe('agent state', () => {
  beforeEach(() => vi.useFakeTimers({ now: 100_000 }));
  afterEach(() => vi.useRealTimers());

  it('starting until the first output, working while it prints, idle after the idle time of quiet', () => {
    const t = setup();
    expect(t.s.current).toMatchObject({ state: 'starting', reason: 'started' });
    t.s.update();
    expect(t.s.current.state).toBe('starting');
    t.print();
    expect(t.s.current.state).toBe('working');
    vi.advanceTimersByTime(1999);
    t.s.update();
    expect(t.s.current.state).toBe('working');
    expect(t.s.nextCheckMs()).toBe(1);
    vi.advanceTimersByTime(1);
    t.s.update();
    expect(t.s.current).toMatchObject({ state: 'idle', reason: 'quiet for 2 s' });
  });

  it('a silent program becomes idle after the start grace', () => {
    const t = setup();
    vi.advanceTimersByTime(START_GRACE_MS);
    t.s.update();
    expect(t.s.current).toMatchObject({ state: 'idle', reason: 'nothing drawn in 10 s' });
  });

  it('a job in the foreground is working, silent or not', () => {
    const t = setup();
    t.print();
    t.setJob('sleep');
    vi.advanceTimersByTime(5000);
    t.s.update();
    expect(t.s.current).toMatchObject({ state: 'working', reason: 'sleep runs in the foreground' });
    expect(t.s.nextCheckMs()).toBe(FOREGROUND_POLL_MS);
    t.setJob(null);
    t.s.update();
    expect(t.s.current.state).toBe('idle');
  });

  it('a notification with the output then quiet is a question (blocked); more output ends it', () => {
    const t = setup();
    t.print('Claude needs your permission');
    t.s.update();
    expect(t.s.current.state).toBe('working');
    vi.advanceTimersByTime(NOTIFY_SETTLE_MS);
    t.s.update();
    expect(t.s.current).toMatchObject({ state: 'blocked', reason: 'Claude needs your permission' });
    t.print();
    expect(t.s.current.state).toBe('working');
  });

  it("the agent's word wins; its working gives way to quiet output; exited is final", () => {
    const t = setup();
    t.print();
    t.s.agentSays('idle', 'hook: Stop');
    expect(t.s.current).toMatchObject({ state: 'idle', reason: 'hook: Stop' });
    t.print(); // a prompt redrawn: still idle by its word
    expect(t.s.current.state).toBe('idle');
    t.s.agentSays('blocked', 'hook: PermissionRequest');
    expect(t.s.current.state).toBe('blocked');
    t.s.submitted('task 1 submitted');
    expect(t.s.current).toMatchObject({ state: 'working', reason: 'task 1 submitted' });
    vi.advanceTimersByTime(2000);
    t.s.update();
    expect(t.s.current.state).toBe('idle'); // no hook after an interrupt: the quiet decides
    t.s.exited('exited with code 3');
    t.s.agentSays('working', 'late');
    expect(t.s.current).toMatchObject({ state: 'exited', reason: 'exited with code 3' });
    expect(t.s.nextCheckMs()).toBeNull();
    expect(t.states()).toEqual(['working', 'idle', 'blocked', 'working', 'idle', 'exited']);
  });
});
