import { TASK_STATES, type TaskState } from '../protocol/events';
import type { TaskInfo } from '../protocol/ops';
import { readFileNoFollow } from '../sys/read-file';
import type { SessionFiles } from './session-dir';

// The task queue's files in sessions/ID/, written by the supervisor alone and read by the
// CLI once the supervisor is gone. queue.jsonl is a journal, one JSON record a line:
//   {"t":"add","index":1,"text":"…","queuedAt":MS}
//   {"t":"step","index":1,"state":"typed","at":MS}     (typed, submitted, started, done;
//       submitted and done with "line", done with "doneState")
//   {"t":"clear","at":MS}                       (drops the tasks not yet typed)
// ({"t":"delivered","index":1,"at":MS} of earlier versions reads as the step submitted.)
// so that a change appends one line instead of rewriting every task (a queue of 96 MB was
// rewritten whole for each added task). A supervisor of the previous version wrote
// queue.json, a JSON array of task maps; it is read when there is no journal.

/** A receipt after `queued`. */
export type TaskStep = Exclude<TaskState, 'queued'>;
const STEPS: readonly TaskStep[] = ['typed', 'submitted', 'started', 'done'];
export type DoneState = 'idle' | 'blocked' | 'exited';

export type QueueRecord =
  | { t: 'add'; index: number; text: string; queuedAt: number; sent?: boolean }
  | { t: 'step'; index: number; state: TaskStep; at: number; line?: number | null; doneState?: DoneState | null }
  | { t: 'clear'; at: number };

/** A task just queued. */
export function newTask(index: number, text: string, queuedAt: number, sent = false): TaskInfo {
  return {
    sent,
    index,
    text,
    state: 'queued',
    queuedAt,
    typedAt: null,
    submittedAt: null,
    startedAt: null,
    doneAt: null,
    doneState: null,
    firstLine: null,
    endLine: null,
    deliveredAt: null,
  };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A task of the first version's queue.json (queued or delivered). */
function oldTask(v: unknown): TaskInfo | null {
  if (typeof v !== 'object' || v === null) return null;
  const t = v as Record<string, unknown>;
  if (!isNum(t.index) || typeof t.text !== 'string' || !isNum(t.queuedAt)) return null;
  const task = newTask(t.index, t.text, t.queuedAt);
  if (t.state === 'delivered') applyStep(task, 'submitted', isNum(t.deliveredAt) ? t.deliveredAt : t.queuedAt, null, null);
  else if (t.state !== 'queued') return null;
  return task;
}

/** One journal line, decoded; null for a line that is not a record (a write cut short). */
export function decodeQueueRecord(line: string): QueueRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  if (r.t === 'add' && isNum(r.index) && typeof r.text === 'string' && isNum(r.queuedAt)) {
    return r.sent === true ? { t: 'add', index: r.index, text: r.text, queuedAt: r.queuedAt, sent: true } : { t: 'add', index: r.index, text: r.text, queuedAt: r.queuedAt };
  }
  if (r.t === 'delivered' && isNum(r.index) && isNum(r.at)) return { t: 'step', index: r.index, state: 'submitted', at: r.at };
  if (r.t === 'step' && isNum(r.index) && isNum(r.at) && (STEPS as readonly unknown[]).includes(r.state)) {
    const line = isNum(r.line) ? r.line : null;
    const doneState = r.doneState === 'idle' || r.doneState === 'blocked' || r.doneState === 'exited' ? r.doneState : null;
    return { t: 'step', index: r.index, state: r.state as TaskStep, at: r.at, line, doneState };
  }
  if (r.t === 'clear' && isNum(r.at)) return { t: 'clear', at: r.at };
  return null;
}

export function encodeQueueRecord(r: QueueRecord): string {
  return `${JSON.stringify(r)}\n`;
}

/** Tasks typed in (done or on their way) kept for `queue --list` (the latest), at most this many… */
export const DELIVERED_KEPT = 100;
/** …and this much text (UTF-8 bytes). */
export const DELIVERED_KEPT_BYTES = 16 * 1024 * 1024;

/** Forgets the oldest delivered tasks beyond what is kept, in place. */
export function pruneDelivered(tasks: TaskInfo[]): void {
  let count = 0;
  let bytes = 0;
  for (let i = tasks.length - 1; i >= 0; i--) {
    const t = tasks[i]!;
    if (t.state === 'queued') continue;
    count++;
    bytes += Buffer.byteLength(t.text);
    if (count > DELIVERED_KEPT || (bytes > DELIVERED_KEPT_BYTES && count > 1)) tasks.splice(i, 1);
  }
}

/** The records that rebuild these tasks (a compacted journal). */
export function recordsOf(tasks: readonly TaskInfo[]): QueueRecord[] {
  const out: QueueRecord[] = [];
  for (const t of tasks) {
    out.push(t.sent ? { t: 'add', index: t.index, text: t.text, queuedAt: t.queuedAt, sent: true } : { t: 'add', index: t.index, text: t.text, queuedAt: t.queuedAt });
    if (t.typedAt !== null) out.push({ t: 'step', index: t.index, state: 'typed', at: t.typedAt });
    if (t.submittedAt !== null) out.push({ t: 'step', index: t.index, state: 'submitted', at: t.submittedAt, line: t.firstLine });
    if (t.startedAt !== null) out.push({ t: 'step', index: t.index, state: 'started', at: t.startedAt });
    if (t.doneAt !== null) out.push({ t: 'step', index: t.index, state: 'done', at: t.doneAt, line: t.endLine, doneState: t.doneState });
  }
  return out;
}

/** Applies one record to the tasks, in place. */
export function applyQueueRecord(tasks: TaskInfo[], r: QueueRecord): void {
  switch (r.t) {
    case 'add':
      tasks.push(newTask(r.index, r.text, r.queuedAt, r.sent === true));
      return;
    case 'step': {
      const t = tasks.find((x) => x.index === r.index);
      if (t) applyStep(t, r.state, r.at, r.line ?? null, r.doneState ?? null);
      return;
    }
    case 'clear': {
      const kept = tasks.filter((t) => t.state !== 'queued');
      tasks.length = 0;
      tasks.push(...kept);
      return;
    }
  }
}

/** Moves the task to `state` (never back), in place. */
export function applyStep(t: TaskInfo, state: TaskStep, at: number, line: number | null, doneState: DoneState | null): void {
  if (TASK_STATES.indexOf(state) > TASK_STATES.indexOf(t.state)) t.state = state;
  switch (state) {
    case 'typed':
      t.typedAt = at;
      break;
    case 'submitted':
      t.submittedAt = at;
      t.deliveredAt = at;
      t.typedAt ??= at;
      t.firstLine = line;
      break;
    case 'started':
      t.startedAt = at;
      break;
    case 'done':
      t.doneAt = at;
      t.endLine = line;
      t.doneState = doneState;
      break;
  }
}

function readJournal(file: string): TaskInfo[] | null {
  let text: string;
  try {
    text = readFileNoFollow(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return [];
  }
  const tasks: TaskInfo[] = [];
  for (const line of text.split('\n')) {
    const r = line === '' ? null : decodeQueueRecord(line);
    if (r) applyQueueRecord(tasks, r);
  }
  pruneDelivered(tasks);
  return tasks;
}

function readOldArray(file: string): TaskInfo[] {
  try {
    const v: unknown = JSON.parse(readFileNoFollow(file));
    return Array.isArray(v) ? v.map(oldTask).filter((t): t is TaskInfo => t !== null) : [];
  } catch {
    return [];
  }
}

/** The tasks of a session: its journal, else the array a previous version wrote; [] when there is neither. */
export function readQueue(files: Pick<SessionFiles, 'queue' | 'queueJournal'>): TaskInfo[] {
  return readJournal(files.queueJournal) ?? readOldArray(files.queue);
}
