import type { TaskInfo } from '../protocol/ops';
import { readFileNoFollow } from '../sys/read-file';
import type { SessionFiles } from './session-dir';

// The task queue's files in sessions/ID/, written by the supervisor alone and read by the
// CLI once the supervisor is gone. queue.jsonl is a journal, one JSON record a line:
//   {"t":"add","index":1,"text":"…","queuedAt":MS}
//   {"t":"delivered","index":1,"at":MS}
//   {"t":"clear","at":MS}                       (drops the tasks not yet delivered)
// so that a change appends one line instead of rewriting every task (a queue of 96 MB was
// rewritten whole for each added task). A supervisor of the previous version wrote
// queue.json, a JSON array of task maps; it is read when there is no journal.

export type QueueRecord =
  | { t: 'add'; index: number; text: string; queuedAt: number }
  | { t: 'delivered'; index: number; at: number }
  | { t: 'clear'; at: number };

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isTask(v: unknown): v is TaskInfo {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  return (
    isNum(t.index) &&
    typeof t.text === 'string' &&
    (t.state === 'queued' || t.state === 'delivered') &&
    isNum(t.queuedAt) &&
    (t.deliveredAt === null || isNum(t.deliveredAt))
  );
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
  if (r.t === 'add' && isNum(r.index) && typeof r.text === 'string' && isNum(r.queuedAt)) return { t: 'add', index: r.index, text: r.text, queuedAt: r.queuedAt };
  if (r.t === 'delivered' && isNum(r.index) && isNum(r.at)) return { t: 'delivered', index: r.index, at: r.at };
  if (r.t === 'clear' && isNum(r.at)) return { t: 'clear', at: r.at };
  return null;
}

export function encodeQueueRecord(r: QueueRecord): string {
  return `${JSON.stringify(r)}\n`;
}

/** Delivered tasks kept for `queue --list` (the latest), at most this many… */
export const DELIVERED_KEPT = 100;
/** …and this much text (UTF-8 bytes). */
export const DELIVERED_KEPT_BYTES = 16 * 1024 * 1024;

/** Forgets the oldest delivered tasks beyond what is kept, in place. */
export function pruneDelivered(tasks: TaskInfo[]): void {
  let count = 0;
  let bytes = 0;
  for (let i = tasks.length - 1; i >= 0; i--) {
    const t = tasks[i]!;
    if (t.state !== 'delivered') continue;
    count++;
    bytes += Buffer.byteLength(t.text);
    if (count > DELIVERED_KEPT || (bytes > DELIVERED_KEPT_BYTES && count > 1)) tasks.splice(i, 1);
  }
}

/** The records that rebuild these tasks (a compacted journal). */
export function recordsOf(tasks: readonly TaskInfo[]): QueueRecord[] {
  const out: QueueRecord[] = [];
  for (const t of tasks) {
    out.push({ t: 'add', index: t.index, text: t.text, queuedAt: t.queuedAt });
    if (t.state === 'delivered') out.push({ t: 'delivered', index: t.index, at: t.deliveredAt ?? t.queuedAt });
  }
  return out;
}

/** Applies one record to the tasks, in place. */
export function applyQueueRecord(tasks: TaskInfo[], r: QueueRecord): void {
  switch (r.t) {
    case 'add':
      tasks.push({ index: r.index, text: r.text, state: 'queued', queuedAt: r.queuedAt, deliveredAt: null });
      return;
    case 'delivered': {
      const t = tasks.find((x) => x.index === r.index);
      if (t) {
        t.state = 'delivered';
        t.deliveredAt = r.at;
      }
      return;
    }
    case 'clear': {
      const kept = tasks.filter((t) => t.state === 'delivered');
      tasks.length = 0;
      tasks.push(...kept);
      return;
    }
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
    return Array.isArray(v) ? v.filter(isTask) : [];
  } catch {
    return [];
  }
}

/** The tasks of a session: its journal, else the array a previous version wrote; [] when there is neither. */
export function readQueue(files: Pick<SessionFiles, 'queue' | 'queueJournal'>): TaskInfo[] {
  return readJournal(files.queueJournal) ?? readOldArray(files.queue);
}
