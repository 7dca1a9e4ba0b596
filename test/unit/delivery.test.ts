import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Activity } from '../../src/supervisor/driving/activity';
import { type DeliveryHost, TaskDelivery } from '../../src/supervisor/driving/delivery';
import { sessionFilesIn } from '../../src/store/session-dir';
import { TaskQueue } from '../../src/supervisor/driving/queue';

// Queue delivery on a fake clock: a task is typed when the agent is idle, nobody typed for
// the idle time, and a full idle time passed since the previous task; pasted, then Enter.

const IDLE = 2000;

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-unit-'));
  let seq = 0;
  const activity = new Activity(IDLE, () => seq);
  const typed: Array<Array<{ data: string; paste: boolean }>> = [];
  /** Tasks announced to the host before they are typed (the recording's markers). */
  const delivered: number[] = [];
  let lastTyped = 0;
  let accepting = true;
  const queue = new TaskQueue(sessionFilesIn(dir));
  const host: DeliveryHost = {
    queue,
    activity,
    idleMs: IDLE,
    accepting: () => accepting,
    lastTypedAt: () => lastTyped,
    type: async (parts) => {
      typed.push(parts.map((p) => ({ data: p.data.toString('utf8'), paste: p.paste })));
    },
    delivering: (task) => delivered.push(task.index),
  };
  const delivery = new TaskDelivery(host);
  return {
    dir,
    queue,
    delivery,
    typed,
    delivered,
    output: () => {
      seq++;
      activity.output();
      activity.drew();
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

  it('types a task once the agent is idle: the text as a paste, then Enter apart', async () => {
    const s = setup();
    dirs.push(s.dir);
    s.output();
    s.queue.add('first task');
    s.delivery.schedule();
    await vi.advanceTimersByTimeAsync(IDLE - 100);
    expect(s.typed).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(s.typed).toEqual([[{ data: 'first task', paste: true }, { data: '\r', paste: false }]]);
    expect(s.queue.list()[0]).toMatchObject({ state: 'delivered' });
  });

  it('waits while output goes on, and while a viewer types', async () => {
    const s = setup();
    dirs.push(s.dir);
    s.queue.add('t');
    s.delivery.schedule();
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      s.output();
      s.delivery.schedule();
    }
    expect(s.typed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1500);
    s.viewerTyped();
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.typed).toEqual([]);
    await vi.advanceTimersByTimeAsync(IDLE);
    expect(s.typed).toHaveLength(1);
  });

  it('one task at a time, a full idle time apart, in order', async () => {
    const s = setup();
    dirs.push(s.dir);
    s.output();
    s.queue.add('a');
    s.queue.add('b');
    s.queue.add('c');
    s.delivery.schedule();
    await vi.advanceTimersByTimeAsync(IDLE + 10);
    expect(s.typed.map((p) => p[0]!.data)).toEqual(['a']);
    // The next one a full idle time after the previous one's Enter.
    await vi.advanceTimersByTimeAsync(IDLE - 100);
    expect(s.typed).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(s.typed.map((p) => p[0]!.data)).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(IDLE - 200);
    expect(s.typed).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(s.typed.map((p) => p[0]!.data)).toEqual(['a', 'b', 'c']);
    expect(s.queue.list().map((t) => t.state)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(s.delivered).toEqual([1, 2, 3]);
  });

  it('a task queued at spawn waits for the agent’s first screen, then an idle time', async () => {
    const s = setup();
    dirs.push(s.dir);
    s.queue.add('early');
    s.delivery.schedule();
    await vi.advanceTimersByTimeAsync(3000); // quiet, but nothing drawn yet
    expect(s.typed).toEqual([]);
    s.output(); // the first prompt
    s.delivery.schedule();
    await vi.advanceTimersByTimeAsync(IDLE - 100);
    expect(s.typed).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(s.typed.map((p) => p[0]!.data)).toEqual(['early']);
  });

  it('delivers nothing once the agent no longer accepts, or after stop()', async () => {
    const s = setup();
    dirs.push(s.dir);
    s.queue.add('never');
    s.delivery.schedule();
    s.delivery.stop();
    await vi.advanceTimersByTimeAsync(IDLE * 3);
    s.stopAccepting();
    s.delivery.schedule();
    await vi.advanceTimersByTimeAsync(IDLE * 3);
    expect(s.typed).toEqual([]);
    expect(s.delivered).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
