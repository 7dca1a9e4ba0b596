import type { StateName } from '../../protocol/events';
import type { DoneState } from '../../store/queue-file';
import { log } from '../lifecycle/log';
import type { Task, TaskQueue } from './queue';

// Delivery of queued tasks, with a receipt for each step of the turn:
//
//   typed      the text pasted in (journalled before: a crash loses a task, never repeats one)
//   submitted  Enter pressed (the cursor's line noted: `capture --task` starts there)
//   started    the agent reacted: output after the Enter (at the latest, when it is done)
//   done       idle or blocked again, or it exited (the cursor's line noted again)
//
// The next task is typed only when the previous one is done, the agent is idle (not
// blocked: a question is for the user), and nobody has typed within the idle time. One
// timer at most, and none while the queue is empty.

export interface DeliveryHost {
  readonly queue: TaskQueue;
  readonly idleMs: number;
  /** The agent runs and has not ended, and reads its input. */
  accepting(): boolean;
  /** The state now, and ms until it may change by itself (null: not by waiting). */
  state(): StateName;
  nextCheckMs(): number | null;
  /** When a viewer last typed a real key (0: never). */
  lastTypedAt(): number;
  /** Types the parts in order, as one unit (see typing.ts). */
  type(parts: Array<{ data: Buffer; paste: boolean }>): Promise<void>;
  /** The cursor's absolute line (null on the alternate screen). */
  cursorLine(): number | null;
  /** A task moved on (an event, a recording marker; the supervisor tells the state of a submit). */
  stepped(task: Task): void;
}

/** Ends a turn: the state it ended in. */
const DONE_STATES: ReadonlySet<StateName> = new Set(['idle', 'blocked', 'exited']);

export class TaskDelivery {
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires. */
  private dueAt = 0;
  /** The task of the turn in progress (typed, not yet done). */
  private current: number | null = null;
  /** Its Enter has been pressed (output from then on means it started). */
  private submitted = false;
  private started = false;

  constructor(private readonly host: DeliveryHost) {}

  /** The task whose turn is in progress, if any. */
  get inProgress(): number | null {
    return this.current;
  }

  /** Arms the timer for the next task, if there is one; sooner if it may now come sooner. */
  schedule(): void {
    if (this.current !== null || !this.host.accepting() || !this.host.queue.next()) return;
    const wait = this.wait();
    if (wait === null) return; // not idle: a change of state schedules again
    const ms = wait + 5;
    if (this.timer) {
      if (Date.now() + ms >= this.dueAt) return;
      clearTimeout(this.timer);
    }
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tryDeliver();
    }, ms);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** After output: the turn in progress has started. */
  output(): void {
    if (this.current !== null && this.submitted && !this.started) this.step('started');
  }

  /** After a change of state: a turn may be over (or have started), the next task may be due. */
  stateChanged(state: StateName): void {
    if (this.current !== null && this.submitted) {
      if (DONE_STATES.has(state)) {
        if (!this.started) this.step('started');
        this.step('done', state as DoneState);
      }
    }
    this.schedule();
  }

  /** The agent ended: the turn in progress is done, whatever step it had reached. */
  agentEnded(): void {
    this.stop();
    if (this.current === null) return;
    if (!this.submitted) {
      this.current = null;
      return;
    }
    this.stateChanged('exited');
  }

  /**
   * `send TEXT --enter` as a task: typed now, whatever the agent is doing, with receipts
   * from `typed` on. A turn still in progress is overtaken: done, with no doneState. When
   * the disk refuses the receipt, the text is typed all the same (null: no task).
   */
  async typeSent(text: string, parts: Array<{ data: Buffer; paste: boolean }>): Promise<Task | null> {
    if (this.current !== null) this.step('done', null);
    let index: number | null = null;
    try {
      index = this.host.queue.add(text, true).index;
      this.host.queue.step(index, 'typed');
    } catch (err) {
      log(`sent text typed without a receipt: ${(err as Error).message}`);
      index = null;
    }
    if (index === null) {
      await this.host.type(parts);
      return null;
    }
    this.current = index;
    this.submitted = false;
    this.started = false;
    this.tell(index);
    const line = this.host.cursorLine();
    await this.host.type(parts);
    if (this.current === index) {
      this.submitted = true;
      const t = this.host.queue.step(index, 'submitted', line);
      if (t) this.host.stepped(t);
    }
    return this.host.queue.get(index);
  }

  /** ms until a task may be typed; null while the agent is not idle. */
  private wait(): number | null {
    const state = this.host.state();
    if (state !== 'idle') return state === 'working' || state === 'starting' ? this.host.nextCheckMs() ?? null : null;
    return Math.max(0, this.host.lastTypedAt() + this.host.idleMs - Date.now());
  }

  private tryDeliver(): void {
    const task = this.host.queue.next();
    if (!task || this.current !== null || !this.host.accepting()) return;
    const wait = this.wait();
    if (wait === null || wait > 0) return this.schedule();
    try {
      this.host.queue.step(task.index, 'typed');
    } catch (err) {
      // The disk refused the receipt: the task stays queued, tried again after an idle time.
      log(`task ${task.index} not typed for now: ${(err as Error).message}`);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, this.host.idleMs);
      return;
    }
    this.current = task.index;
    this.submitted = false;
    this.started = false;
    this.tell(task.index);
    // The line the task is typed on: its echo, then what the agent prints for it, come from there.
    const line = this.host.cursorLine();
    // One unit (typing.ts): the paste, a pause, then Enter, with nothing typed in between.
    void this.host
      .type([
        { data: Buffer.from(task.text, 'utf8'), paste: true },
        { data: Buffer.from('\r'), paste: false },
      ])
      .then(() => {
        if (this.current !== task.index) return;
        this.submitted = true;
        const t = this.host.queue.step(task.index, 'submitted', line);
        if (t) this.host.stepped(t);
      })
      .catch((err: Error) => log(`task ${task.index} not typed: ${err.message}`));
  }

  private step(state: 'started' | 'done', doneState: DoneState | null = null): void {
    const index = this.current;
    if (index === null) return;
    if (state === 'started') this.started = true;
    const t = this.host.queue.step(index, state, state === 'done' ? this.host.cursorLine() : null, doneState);
    if (state === 'done') {
      this.current = null;
      this.submitted = false;
    }
    if (t) this.host.stepped(t);
  }

  private tell(index: number): void {
    const t = this.host.queue.get(index);
    if (t) this.host.stepped(t);
  }
}
