import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readQueue } from '../../src/store/queue-file';
import { sessionFilesIn } from '../../src/store/session-dir';
import { MAX_QUEUED_BYTES, MAX_QUEUED_TASKS, TaskQueue } from '../../src/supervisor/driving/queue';

// The task queue's journal (issue 16): a change appends one line (a 96 MB queue was
// rewritten whole for each task added), a change the disk refuses is not made, the queue
// has a cap, and what a previous version wrote is read.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function files() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-queue-'));
  dirs.push(dir);
  return sessionFilesIn(dir);
}

const texts = (tasks: Array<{ text: string }>) => tasks.map((t) => t.text.slice(0, 20));

describe('the task queue', () => {
  it('appends one line per change: adding to a large queue does not rewrite it', () => {
    const f = files();
    const q = new TaskQueue(f);
    const big = 'x'.repeat(4 * 1024 * 1024);
    for (let i = 0; i < 5; i++) q.add(`${i} ${big}`);
    const before = fs.statSync(f.queueJournal);
    expect(before.size).toBeGreaterThan(20 * 1024 * 1024); // past where it may be compacted, and alive
    q.add('one more');
    const after = fs.statSync(f.queueJournal);
    expect(after.ino).toBe(before.ino);
    expect(after.size - before.size).toBe(Buffer.byteLength(fs.readFileSync(f.queueJournal, 'utf8').split('\n').at(-2)!) + 1);
    q.step(q.next()!.index, 'typed');
    expect(fs.statSync(f.queueJournal).ino).toBe(before.ino);
    // Read back as a later CLI does.
    expect(readQueue(f).map((t) => [t.index, t.state])).toEqual([
      [1, 'typed'],
      [2, 'queued'],
      [3, 'queued'],
      [4, 'queued'],
      [5, 'queued'],
      [6, 'queued'],
    ]);
  });

  it('a change the disk refuses is not made: the task is not queued, nothing is cleared or delivered', () => {
    const f = files();
    fs.writeFileSync(f.queue, JSON.stringify([{ index: 1, text: 'kept', state: 'queued', queuedAt: 1000, deliveredAt: null }]));
    const q = new TaskQueue(f);
    fs.rmSync(f.dir, { recursive: true }); // nowhere to write any more
    expect(() => q.add('refused')).toThrow(expect.objectContaining({ code: 'storage', message: expect.stringMatching(/^the queue could not be saved \(no such file or directory \(ENOENT\)\): the task was not queued\. Free some disk space, then try again\.$/) }));
    expect(() => q.clear()).toThrow(expect.objectContaining({ code: 'storage' }));
    expect(() => q.step(q.next()!.index, 'typed')).toThrow(expect.objectContaining({ code: 'storage' }));
    expect(q.list().map((t) => [t.text, t.state])).toEqual([['kept', 'queued']]);
  });

  it('has a cap: tasks waiting, and bytes waiting (1 000 tasks and 64 MiB; smaller here)', () => {
    expect([MAX_QUEUED_TASKS, MAX_QUEUED_BYTES]).toEqual([1000, 64 * 1024 * 1024]);
    const q = new TaskQueue(files(), { tasks: 10, bytes: 100 });
    for (let i = 0; i < 10; i++) q.add(`task ${i}`);
    expect(() => q.add('one too many')).toThrow(
      expect.objectContaining({ code: 'busy', message: 'the queue is full (at most 10 tasks and 100 bytes waiting; 10 tasks wait): clear it or wait for deliveries' }),
    );
    q.step(q.next()!.index, 'typed'); // delivered ones do not count
    q.add('room again');
    expect(q.clear()).toBe(10);
    q.add('a'.repeat(95));
    expect(() => q.add('b'.repeat(6))).toThrow(expect.objectContaining({ code: 'busy' }));
    q.add('c'.repeat(5));
  });

  it('reads what a previous version wrote (queue.json), moves it into the journal on the first change, and skips a line cut short', () => {
    const f = files();
    const old = [
      { index: 1, text: 'done', state: 'delivered', queuedAt: 1000, deliveredAt: 2000 },
      { index: 2, text: 'waiting', state: 'queued', queuedAt: 1500, deliveredAt: null },
    ];
    fs.writeFileSync(f.queue, JSON.stringify(old));
    const q = new TaskQueue(f);
    // A delivered task of the first version: typed and submitted.
    expect(q.list().map((t) => [t.index, t.text, t.state, t.queuedAt, t.submittedAt])).toEqual([
      [1, 'done', 'submitted', 1000, 2000],
      [2, 'waiting', 'queued', 1500, null],
    ]);
    q.add('new');
    expect(fs.existsSync(f.queue)).toBe(false);
    fs.appendFileSync(f.queueJournal, '{"t":"add","index":4,"te'); // a crash mid-line
    expect(texts(readQueue(f))).toEqual(['done', 'waiting', 'new']);
    expect(new TaskQueue(f).list().map((t) => t.index)).toEqual([1, 2, 3]);
  });

  it('is compacted once most of the journal is dead', () => {
    const f = files();
    const q = new TaskQueue(f);
    for (let i = 0; i < 5; i++) q.add(`${i} ${'y'.repeat(1024 * 1024)}`);
    q.step(q.next()!.index, 'typed');
    expect(fs.statSync(f.queueJournal).size).toBeGreaterThan(5 * 1024 * 1024);
    q.clear(); // 4 of the 5 MiB dead
    expect(fs.statSync(f.queueJournal).size).toBeLessThan(1024 * 1024 + 1024);
    q.add('after the clear');
    expect(texts(readQueue(f))).toEqual(['0 yyyyyyyyyyyyyyyyyy', 'after the clear']);
  });
});
