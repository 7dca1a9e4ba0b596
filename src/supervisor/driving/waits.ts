import { ProtocolError } from '../../protocol/messages';
import type { StateName } from '../../protocol/events';
import type { TaskInfo, WaitReply } from '../../protocol/ops';
import { PatternTooSlow, type TextPattern } from '../../text-pattern';

// `agent wait` on the supervisor's side: each waiter is answered once, when its
// condition holds, when the agent ends, or when its timeout passes; it is dropped when
// its connection closes. Timers exist only while someone waits, so an idle supervisor
// does no work.

export type WaitCondition =
  | { until: 'idle'; idleMs: number }
  | { until: 'exit' }
  | { until: 'text'; re: TextPattern }
  | { until: 'state'; states: readonly StateName[] }
  | { until: 'task'; task: number };

/** What the waits look at. */
export interface WaitHost {
  readonly ended: boolean;
  readonly exitInfo: { code: number | null; signal: string | null } | null;
  /** The state now. */
  state(): StateName;
  /** The state for this idle time (`wait --idle N`), and ms until it may change by itself (null: not by waiting). */
  stateWith(idleMs: number): StateName;
  nextCheckMs(idleMs: number): number | null;
  /** A task as it is now (null: there is none with that number). */
  task(index: number): TaskInfo | null;
  /** The visible screen, rows joined by \n. */
  visibleText(): string;
}

/** `wait --idle`: the agent waits for input, whether it asks something or not. */
const WAITING: ReadonlySet<StateName> = new Set(['idle', 'blocked']);

interface Waiter {
  owner: object;
  cond: WaitCondition;
  timeout: NodeJS.Timeout | null;
  resolve(r: WaitReply): void;
  reject(err: Error): void;
}

/** How soon after output a text wait looks at the screen again (one look per burst). */
const TEXT_CHECK_MS = 50;
/** Pending waits per supervisor: each is checked on every screen change, so they are bounded. */
export const MAX_WAITERS = 256;

export class Waits {
  private waiters = new Set<Waiter>();
  private idleTimer: NodeJS.Timeout | null = null;
  private textTimer: NodeJS.Timeout | null = null;

  constructor(private readonly host: WaitHost) {}

  /** Resolves with the answer; rejects with `busy` past MAX_WAITERS, `pattern-too-slow` for a runaway pattern. */
  add(owner: object, cond: WaitCondition, timeoutMs: number | null): Promise<WaitReply> {
    if (this.waiters.size >= MAX_WAITERS) {
      return Promise.reject(new ProtocolError('busy', `too many pending waits (${MAX_WAITERS}); try again later`));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { owner, cond, timeout: null, resolve, reject };
      this.waiters.add(w);
      if (timeoutMs !== null) w.timeout = setTimeout(() => this.answer(w, false), timeoutMs);
      if (this.host.ended) this.agentEnded();
      else this.check();
    });
  }

  /** Takes `w` off the list; false when it was answered already. */
  private take(w: Waiter): boolean {
    if (!this.waiters.delete(w)) return false;
    if (w.timeout) clearTimeout(w.timeout);
    return true;
  }

  private answer(w: Waiter, satisfied: boolean, match: string | null = null): void {
    if (!this.take(w)) return;
    const e = this.host.exitInfo;
    const task = w.cond.until === 'task' ? this.host.task(w.cond.task) : null;
    w.resolve({ satisfied, ended: this.host.ended, exitCode: e?.code ?? null, exitSignal: e?.signal ?? null, match, state: this.host.state(), task });
  }

  /** Answers `w` when its pattern matches `text` (or, `final`, in any case). */
  private checkText(w: Waiter, re: TextPattern, text: string, final: boolean): void {
    let m: string | undefined;
    try {
      m = re.exec(text);
    } catch (err) {
      if (!(err instanceof PatternTooSlow)) throw err;
      // Failed, so that it cannot freeze the agent again.
      if (this.take(w)) w.reject(new ProtocolError('pattern-too-slow', err.message));
      return;
    }
    if (m !== undefined || final) this.answer(w, m !== undefined, m ?? null);
  }

  /** Answers every waiter whose condition holds now; arms the timers the others need. */
  private check(): void {
    let nextIdle = Infinity;
    let text: string | undefined; // the screen once per check, not once per waiter
    for (const w of [...this.waiters]) {
      if (w.cond.until === 'idle') {
        if (WAITING.has(this.host.stateWith(w.cond.idleMs))) this.answer(w, true);
        else {
          const next = this.host.nextCheckMs(w.cond.idleMs);
          // No threshold left ahead: the last may have passed since the state was looked at
          // (session-state.ts, arm): looked at again, it holds.
          if (next === null && WAITING.has(this.host.stateWith(w.cond.idleMs))) this.answer(w, true);
          else nextIdle = Math.min(nextIdle, next ?? Infinity);
        }
      } else if (w.cond.until === 'state') {
        if (w.cond.states.includes(this.host.state())) this.answer(w, true);
      } else if (w.cond.until === 'task') {
        const t = this.host.task(w.cond.task);
        if (t === null) this.fail(w, new ProtocolError('bad-request', `there is no task ${w.cond.task}`));
        else if (t.state === 'done') this.answer(w, true);
      } else if (w.cond.until === 'text') {
        this.checkText(w, w.cond.re, (text ??= this.host.visibleText()), false);
      }
    }
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (Number.isFinite(nextIdle)) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        this.check();
      }, nextIdle + 5);
    }
  }

  private fail(w: Waiter, err: Error): void {
    if (this.take(w)) w.reject(err);
  }

  /** The state changed, or a task moved on: state and task waits may hold now. */
  stateChanged(): void {
    if (this.waiters.size > 0) this.check();
  }

  /** After output is parsed: text may match now, and a prompt mark may make the agent idle. */
  screenChanged(): void {
    if (this.textTimer || this.waiters.size === 0) return;
    this.textTimer = setTimeout(() => {
      this.textTimer = null;
      this.check();
    }, TEXT_CHECK_MS);
  }

  agentEnded(): void {
    let text: string | undefined;
    for (const w of [...this.waiters]) {
      if (w.cond.until === 'text') this.checkText(w, w.cond.re, (text ??= this.host.visibleText()), true);
      else if (w.cond.until === 'state') this.answer(w, w.cond.states.includes('exited'));
      else if (w.cond.until === 'task') this.answer(w, this.host.task(w.cond.task)?.state === 'done');
      else this.answer(w, true);
    }
  }

  /** The connection that asked is gone: its waits are dropped, unanswered. */
  ownerGone(owner: object): void {
    for (const w of [...this.waiters]) if (w.owner === owner) this.take(w);
  }
}
