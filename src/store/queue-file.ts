import { readFileNoFollow } from '../sys/read-file';
import type { TaskInfo } from '../protocol/ops';

// The task queue's file (sessions/ID/queue.json): a JSON array of task maps, written by
// the supervisor alone and read by the CLI once the supervisor is gone.

function isTask(v: unknown): v is TaskInfo {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  return (
    typeof t.index === 'number' &&
    typeof t.text === 'string' &&
    (t.state === 'queued' || t.state === 'delivered') &&
    typeof t.queuedAt === 'number' &&
    (t.deliveredAt === null || typeof t.deliveredAt === 'number')
  );
}

/** The tasks in the file; [] when it is missing or unreadable. */
export function readQueueFile(file: string): TaskInfo[] {
  try {
    const v: unknown = JSON.parse(readFileNoFollow(file));
    return Array.isArray(v) ? v.filter(isTask) : [];
  } catch {
    return [];
  }
}
