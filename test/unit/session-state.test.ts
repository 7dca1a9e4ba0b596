import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionState } from '../../src/supervisor/driving/session-state';

// The session's state over time, on a fake clock: its one timer must look again at every
// threshold, even when the clock moves between deciding the state and looking for the
// next threshold.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-state-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('session state', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it("turns idle after a task's idle time and the output's, when the clock moves between the two looks", async () => {
    let lastOutput = 0;
    const session = new SessionState({
      id: 's1',
      idleMs: 1000,
      known: null,
      eventsFile: path.join(dir, 'events.jsonl'),
      workdir: dir,
      hooks: null,
      quietFor: () => {
        const quiet = Date.now() - lastOutput;
        // The clock ticks right after the state is decided with the output 999 ms quiet.
        if (quiet === 999) vi.setSystemTime(Date.now() + 1);
        return quiet;
      },
      hadOutput: () => true,
      latestSeq: () => 1,
      agentPid: () => null,
      visibleText: () => '',
      lastTypedAt: () => 0,
    });
    session.started();
    session.submitted(1); // at 0: working until 1000 at least
    await vi.advanceTimersByTimeAsync(3);
    lastOutput = Date.now(); // its output, at 3: working until 1003
    session.output();
    expect(session.current).toMatchObject({ state: 'working', reason: 'task 1 submitted' });
    // The timer for the task's threshold (at 1002) finds the output 999 ms quiet: working
    // (output), and no threshold ahead once the clock has moved.
    await vi.advanceTimersByTimeAsync(1100);
    expect(session.current).toMatchObject({ state: 'idle', reason: 'quiet for 1 s' });
    await session.settled();
  });
});
