import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StateName } from '../../src/protocol/events';
import { type DeliveryHost, TaskDelivery } from '../../src/supervisor/driving/delivery';
import { sessionFilesIn } from '../../src/store/session-dir';
import { TaskQueue } from '../../src/supervisor/driving/queue';

// Queue delivery on a fake clock and a state the test sets: a task is typed when the agent
// is idle (not blocked) and nobody typed for the idle time, and only once the previous
// task's turn is done; pasted, then Enter apart, each step with its receipt.

const IDLE = 2000;

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-unit-'));
  const typed: Array<{ data: string; paste: boolean }> = [];
  const steps: string[] = [];
  let lastTyped = 0;
  let accepting = true;
  let state: StateName = 'idle';
  let line = 10;
  const queue = new TaskQueue(sessionFilesIn(dir));
  const host: DeliveryHost = {
    queue,
    idleMs: IDLE,
    accepting: () => accepting,
    state: () => state,
    nextCheckMs: () => (state === 'working' ? IDLE : null),
    lastTypedAt: () => lastTyped,
    type: async (parts) => {
      for (const p of parts) typed.push({ data: p.data.toString('utf8'), paste: p.paste });
    },
    cursorLine: () => line,
    stepped: (t) => steps.push(`${t.index} ${t.state}`),
  };
  const delivery = new TaskDelivery(host);
  return {
    dir,
    queue,
    delivery,
    typed,
    steps,
    setState(s: StateName) {
      state = s;
      delivery.stateChanged(s);
    },
    output() {
      line++;
      delivery.output();
    },
    viewerTyped: () => (lastTyped = Date.now()),
    stopAccepting: () => (accepting = false),
  };
}

describe('task delivery', () => {
  let dirs: string[] = [];
  beforeEach(() => vi.useFakeTimers({ now: 5_000_000 }));
  afterEach(() => {
    vi.useRealTimers();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    dirs = [];
  });

  it('types a task when the agent is idle: the text as a paste, then Enter apart, with its receipts', async () => {
    const s = setup();
    dirs.push(s.dir);
    s.queue.add('first task');
    s.delivery.schedule();
    await vi.advanceTimersByTimeAsync(10);
    expect(s.typed).toEqual([
      { data: 'first task', paste: true },
      { data: '\r', paste: false },
    ]);
    expect(s.steps).toEqual(['1 typed', '1 submitted']);
    expect(s.queue.get(1)).toMatchObject({ state: 'submitted', firstLine: 10 });
    s.setState('working');
    s.output();
    expect(s.queue.get(1)).toMatchObject({ state: 'started' });
    s.output();
    s.setState('idle');
    expect(s.queue.get(1)).toMatchObject({ state: 'done', doneState: 'idle', endLine: 12 });
    expect(s.steps).toEqual(['1 typed', '1 submitted', '1 started', '1 done']);
  });

  it('never while the agent works or asks something, nor while a viewer types', async () => {
    const s = setup();
    dirs.push(s.dir);
    s.setState('working');
    s.queue.add('t');
    s.delivery.schedule();
    await vi.advanceTimersByTimeAsync(IDLE * 3);
    expect(s.typed).toEqual([]);
    s.setState('blocked');
    await vi.advanceTimersByTimeAsync(IDLE * 3);
    expect(s.typed).toEqual([]);
    s.viewerTyped();
    s.setState('idle');
    await vi.advanceTimersByTimeAsync(IDLE - 100);
    expect(s.typed).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(s.typed.map((p) => p.data)).toEqual(['t', '\r']);
  });

  it('three tasks: each is typed only once the previous one is done', async () => {
    const s = setup();
    dirs.push(s.dir);
    for (const t of ['a', 'b', 'c']) s.queue.add(t);
    s.delivery.schedule();
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      await vi.advanceTimersByTimeAsync(10);
      expect(s.typed.filter((p) => p.paste).map((p) => p.data)).toEqual(['a', 'b', 'c'].slice(0, i + 1));
      s.setState('working');
      s.output();
      await vi.advanceTimersByTimeAsync(IDLE * 5); // a long turn: nothing else is typed meanwhile
      expect(s.typed.filter((p) => p.paste)).toHaveLength(i + 1);
      s.setState('idle');
      expect(s.queue.get(i + 1)?.state, name).toBe('done');
    }
    expect(s.queue.list().map((t) => t.state)).toEqual(['done', 'done', 'done']);
  });

  it('the turn in progress is done when the agent exits', async () => {
    const s = setup();
    dirs.push(s.dir);
    s.queue.add('last');
    s.delivery.schedule();
    await vi.advanceTimersByTimeAsync(10);
    s.delivery.agentEnded();
    expect(s.queue.get(1)).toMatchObject({ state: 'done', doneState: 'exited' });
  });

  it('delivers nothing once the agent no longer accepts, or after stop()', async () => {
    const s = setup();
    dirs.push(s.dir);
    s.setState('working');
    s.queue.add('never');
    s.delivery.schedule();
    s.delivery.stop();
    s.stopAccepting();
    s.setState('idle');
    await vi.advanceTimersByTimeAsync(IDLE * 3);
    expect(s.typed).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
