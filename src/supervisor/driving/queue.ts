import * as fs from 'node:fs';
import { writeJsonAtomic } from '../../sys/atomic-write';

// The background task queue. The supervisor is its only writer: requests from any number
// of CLIs arrive on one event loop, so adds are ordered and need no lock. Each change is
// written atomically before it is acknowledged; a task is marked delivered before it is
// typed, so a crash can lose a delivery but never repeat one.

export interface Task {
  index: number;
  text: string;
  state: 'queued' | 'delivered';
  queuedAt: number;
  deliveredAt: number | null;
}

function isTask(v: unknown): v is Task {
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

export function readQueueFile(file: string): Task[] {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return Array.isArray(v) ? v.filter(isTask) : [];
  } catch {
    return [];
  }
}

export class TaskQueue {
  private tasks: Task[];

  constructor(private readonly file: string) {
    this.tasks = readQueueFile(file);
  }

  private save(): void {
    writeJsonAtomic(this.file, this.tasks);
  }

  add(text: string): Task {
    const index = (this.tasks[this.tasks.length - 1]?.index ?? 0) + 1;
    const task: Task = { index, text, state: 'queued', queuedAt: Date.now(), deliveredAt: null };
    this.tasks.push(task);
    this.save();
    return task;
  }

  list(): Task[] {
    return this.tasks.map((t) => ({ ...t }));
  }

  clear(): number {
    const before = this.tasks.length;
    this.tasks = this.tasks.filter((t) => t.state === 'delivered');
    const dropped = before - this.tasks.length;
    if (dropped > 0) this.save();
    return dropped;
  }

  next(): Task | null {
    return this.tasks.find((t) => t.state === 'queued') ?? null;
  }

  markDelivered(task: Task): void {
    task.state = 'delivered';
    task.deliveredAt = Date.now();
    this.save();
  }
}
