import * as fs from 'node:fs';
import { describeFsError } from '../../errors';
import { ProtocolError } from '../../protocol/messages';
import type { TaskInfo } from '../../protocol/ops';
import { type DoneState, type QueueRecord, type TaskStep, applyQueueRecord, encodeQueueRecord, newTask, pruneDelivered, readQueue, recordsOf } from '../../store/queue-file';
import type { SessionFiles } from '../../store/session-dir';
import { writeFileAtomic } from '../../sys/atomic-write';

// The background task queue. The supervisor is its only writer: requests from any number
// of CLIs arrive on one event loop, so adds are ordered and need no lock. Each change is
// appended to the journal (store/queue-file.ts) and fsynced before it is acknowledged or
// acted on; a change whose write fails is not made (a task the disk refused is not queued:
// it would be delivered once space returned, and a retry of the add delivered twice). A
// task is marked typed before it is typed, so a crash can lose a delivery but never
// repeat one. Its later receipts (submitted, started, done) are journalled the same way.

export type Task = TaskInfo;

/** Tasks waiting at most: a script gone wrong must not fill the disk and the supervisor's memory… */
export const MAX_QUEUED_TASKS = 1000;
/** …and their text at most (UTF-8 bytes): eight tasks of the largest size a request carries. */
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** The journal is rewritten with only what it holds alive once it is this large… */
const COMPACT_MIN_BYTES = 4 * 1024 * 1024;
/** …and this many times what it holds alive: each byte is rewritten at most once on average. */
const COMPACT_RATIO = 2;

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : `${n} bytes`;
}

export class TaskQueue {
  private readonly tasks: Task[];
  /** The journal, open for appending; null until the first change. */
  private fd: number | null = null;
  /** Its size (where a failed append is cut back to). */
  private journalBytes = 0;
  /** Bytes of the journal's lines about each task kept (the rest of the journal is dead). */
  private readonly lineBytes = new Map<number, number>();

  /** `cap`: the bounds above (smaller ones keep a test of them small). */
  constructor(
    private readonly files: Pick<SessionFiles, 'queue' | 'queueJournal'>,
    private readonly cap = { tasks: MAX_QUEUED_TASKS, bytes: MAX_QUEUED_BYTES },
  ) {
    this.tasks = readQueue(files);
  }

  /** A task to queue; `sent`: one `send` types at once (not counted against the bounds: it never waits). */
  add(text: string, sent = false): Task {
    const waiting = this.tasks.filter((t) => t.state === 'queued');
    if (sent) {
      const index = (this.tasks[this.tasks.length - 1]?.index ?? 0) + 1;
      const task: Task = newTask(index, text, Date.now(), true);
      this.change({ t: 'add', index, text, queuedAt: task.queuedAt, sent: true }, 'no receipt was kept');
      return { ...task };
    }
    const bytes = waiting.reduce((n, t) => n + Buffer.byteLength(t.text), 0) + Buffer.byteLength(text);
    if (waiting.length >= this.cap.tasks || bytes > this.cap.bytes) {
      throw new ProtocolError(
        'busy',
        `the queue is full (at most ${this.cap.tasks} tasks and ${formatBytes(this.cap.bytes)} waiting; ${waiting.length} tasks wait): clear it or wait for deliveries`,
      );
    }
    const index = (this.tasks[this.tasks.length - 1]?.index ?? 0) + 1;
    const task: Task = newTask(index, text, Date.now());
    this.change({ t: 'add', index, text, queuedAt: task.queuedAt }, 'the task was not queued');
    return { ...task };
  }

  /** Tasks waiting to be typed. */
  get queuedCount(): number {
    let n = 0;
    for (const t of this.tasks) if (t.state === 'queued') n++;
    return n;
  }

  list(): Task[] {
    return this.tasks.map((t) => ({ ...t }));
  }

  clear(): number {
    const dropped = this.tasks.filter((t) => t.state === 'queued').length;
    if (dropped > 0) this.change({ t: 'clear', at: Date.now() }, 'nothing was cleared');
    return dropped;
  }

  next(): Task | null {
    return this.tasks.find((t) => t.state === 'queued') ?? null;
  }

  /** The task numbered `index`, as it is now (null: unknown, or forgotten). */
  get(index: number): Task | null {
    const t = this.tasks.find((x) => x.index === index);
    return t ? { ...t } : null;
  }

  /**
   * The task's next receipt; throws when `typed` cannot be saved (the task stays queued and
   * is not typed). Later steps are kept in memory when the disk refuses them: the turn goes
   * on either way.
   */
  step(index: number, state: TaskStep, line: number | null = null, doneState: DoneState | null = null): Task | null {
    const r: QueueRecord = { t: 'step', index, state, at: Date.now(), line, doneState };
    if (state === 'typed') this.change(r, 'it was not typed');
    else {
      try {
        this.change(r, 'its receipt was not saved');
      } catch {
        applyQueueRecord(this.tasks, r);
      }
    }
    return this.get(index);
  }

  /** Saves one change, then makes it; a ProtocolError `storage` when it cannot be saved (nothing changes). */
  private change(r: QueueRecord, notDone: string): void {
    const line = encodeQueueRecord(r);
    try {
      this.append(line);
    } catch (err) {
      throw new ProtocolError('storage', `the queue could not be saved (${describeFsError(err)}): ${notDone}. Free some disk space, then try again.`);
    }
    applyQueueRecord(this.tasks, r);
    pruneDelivered(this.tasks);
    if (r.t !== 'clear') this.lineBytes.set(r.index, (this.lineBytes.get(r.index) ?? 0) + Buffer.byteLength(line));
    this.compactIfWorth();
  }

  private append(line: string): void {
    if (this.fd === null) this.open();
    const data = Buffer.from(line, 'utf8');
    const fd = this.fd!;
    try {
      for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off);
      fs.fsyncSync(fd);
    } catch (err) {
      // A line cut short by a full disk must not stay (the reader would skip it anyway).
      try {
        fs.ftruncateSync(fd, this.journalBytes);
      } catch {
        /* a read-only file system: nothing was written either */
      }
      throw err;
    }
    this.journalBytes += data.length;
  }

  /**
   * The first change of this supervisor: the journal is made anew with the tasks read at
   * the start (from the previous version's queue.json, if that is what there was).
   */
  private open(): void {
    const file = this.files.queueJournal;
    // An existing journal is rewritten too: what this supervisor knows of its lines starts here.
    this.rewrite();
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NOFOLLOW);
    this.fd = fd;
    this.journalBytes = fs.fstatSync(fd).size;
  }

  /** The journal made anew with what is alive (atomically: the old one stays whole on failure). */
  private rewrite(): void {
    this.lineBytes.clear();
    const lines = recordsOf(this.tasks).map((r) => {
      const line = encodeQueueRecord(r);
      if (r.t !== 'clear') this.lineBytes.set(r.index, (this.lineBytes.get(r.index) ?? 0) + Buffer.byteLength(line));
      return line;
    });
    writeFileAtomic(this.files.queueJournal, lines.join(''));
    fs.rmSync(this.files.queue, { force: true }); // the previous version's copy is in the journal now
  }

  private compactIfWorth(): void {
    if (this.journalBytes < COMPACT_MIN_BYTES) return;
    // Lines about tasks cleared or forgotten are dead; the journal is rewritten only when
    // they are most of it (an add to a large, live queue appends one line, never more).
    let alive = 0;
    for (const t of this.tasks) alive += this.lineBytes.get(t.index) ?? 0;
    if (this.journalBytes < COMPACT_RATIO * alive) return;
    try {
      this.rewrite();
    } catch {
      return; // the journal as it is stays valid
    }
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
