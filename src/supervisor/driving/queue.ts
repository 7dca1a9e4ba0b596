import type { TaskInfo } from '../../protocol/ops';
import { readQueueFile } from '../../store/queue-file';
import { writeJsonAtomic } from '../../sys/atomic-write';

// The background task queue. The supervisor is its only writer: requests from any number
// of CLIs arrive on one event loop, so adds are ordered and need no lock. Each change is
// written atomically before it is acknowledged; a task is marked delivered before it is
// typed, so a crash can lose a delivery but never repeat one.

export type Task = TaskInfo;

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
