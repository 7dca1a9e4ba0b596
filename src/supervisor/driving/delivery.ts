import { log } from '../lifecycle/log';
import type { Activity } from './activity';
import type { Task, TaskQueue } from './queue';

// Delivery of queued tasks: the next task is typed once the agent is idle, nobody has
// typed within the idle time, and a full idle time has passed since the previous task
// (its Enter). Pasted as one block, then Enter as a separate write. One timer at most,
// and none while the queue is empty.

export interface DeliveryHost {
  readonly queue: TaskQueue;
  readonly activity: Activity;
  readonly idleMs: number;
  /** The agent runs and has not ended. */
  accepting(): boolean;
  /** When a viewer last typed a real key (0: never). */
  lastTypedAt(): number;
  /** Types the parts in order, as one unit (see Supervisor.type). */
  type(parts: Array<{ data: Buffer; paste: boolean }>): Promise<void>;
  /** A task is about to be typed (a marker in the recording). */
  delivering(task: Task): void;
}

export class TaskDelivery {
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires. */
  private dueAt = 0;
  private lastDeliveryAt = 0;

  constructor(private readonly host: DeliveryHost) {}

  /** Arms the timer for the next task, if there is one; sooner if it may now come sooner. */
  schedule(): void {
    if (!this.host.accepting() || !this.host.queue.next()) return;
    const wait = this.wait() + 5;
    if (this.timer) {
      if (Date.now() + wait >= this.dueAt) return;
      clearTimeout(this.timer);
    }
    this.dueAt = Date.now() + wait;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tryDeliver();
    }, wait);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Milliseconds until a task may be typed. */
  private wait(): number {
    const now = Date.now();
    return Math.max(
      0,
      this.host.activity.msUntilIdle(),
      this.host.lastTypedAt() + this.host.idleMs - now,
      this.lastDeliveryAt + this.host.idleMs - now,
    );
  }

  private tryDeliver(): void {
    const task = this.host.queue.next();
    if (!task || !this.host.accepting()) return;
    if (this.wait() > 0) return this.schedule();
    // Marked before it is typed: a crash may lose a delivery, never repeat one. A mark the
    // disk refuses leaves the task queued, tried again after an idle time.
    this.lastDeliveryAt = Date.now();
    try {
      this.host.queue.markDelivered(task);
    } catch (err) {
      log(`task ${task.index} not delivered for now: ${(err as Error).message}`);
      this.schedule();
      return;
    }
    this.host.delivering(task);
    void this.host
      .type([
        { data: Buffer.from(task.text, 'utf8'), paste: true },
        { data: Buffer.from('\r'), paste: false },
      ])
      .then(() => {
        this.lastDeliveryAt = Date.now();
        this.schedule();
      });
  }
}
