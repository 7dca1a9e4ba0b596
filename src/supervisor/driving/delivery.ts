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
  private lastDeliveryAt = 0;

  constructor(private readonly host: DeliveryHost) {}

  /** Arms the timer for the next task, if there is one and none is armed. */
  schedule(): void {
    if (this.timer || !this.host.accepting() || !this.host.queue.next()) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tryDeliver();
    }, this.wait() + 5);
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
    // Marked before it is typed: a crash may lose a delivery, never repeat one.
    this.host.queue.markDelivered(task);
    this.lastDeliveryAt = Date.now();
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
