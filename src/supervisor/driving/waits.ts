import { PatternTooSlow, type TextPattern } from '../../text-pattern';
import type { Connection } from '../viewers/connection';
import type { Supervisor } from '../supervisor';

// `agent wait` on the supervisor's side: each waiter is answered once, when its
// condition holds, when the agent ends, or when its timeout passes. Timers exist only
// while someone waits, so an idle supervisor does no work.

type Cond = { until: 'idle'; idleMs: number } | { until: 'exit' } | { until: 'text'; re: TextPattern };

interface Waiter {
  conn: Connection;
  id: number;
  cond: Cond;
  timeout: NodeJS.Timeout | null;
}

const TEXT_CHECK_MS = 50;
/** Pending waits per supervisor: each is checked on every screen change, so they are bounded. */
export const MAX_WAITERS = 256;

export class Waits {
  private waiters = new Set<Waiter>();
  private idleTimer: NodeJS.Timeout | null = null;
  private textTimer: NodeJS.Timeout | null = null;

  constructor(private readonly sup: Supervisor) {}

  add(conn: Connection, id: number, cond: Cond, timeoutMs: number | null): void {
    if (this.waiters.size >= MAX_WAITERS) {
      const message = `too many pending waits (${MAX_WAITERS}); try again later`;
      conn.send({ t: 'response', id, ok: false, result: null, error: { code: 'busy', message } });
      return;
    }
    const w: Waiter = { conn, id, cond, timeout: null };
    this.waiters.add(w);
    if (timeoutMs !== null) {
      w.timeout = setTimeout(() => this.answer(w, false), timeoutMs);
    }
    if (this.sup.ended) return this.agentEnded();
    this.check();
  }

  /** Takes `w` off the list; false when it was answered already. */
  private take(w: Waiter): boolean {
    if (!this.waiters.delete(w)) return false;
    if (w.timeout) clearTimeout(w.timeout);
    return true;
  }

  /** A text wait whose pattern ran too long: failed, so it cannot freeze the agent again. */
  private failSlow(w: Waiter, err: PatternTooSlow): void {
    if (!this.take(w)) return;
    w.conn.send({ t: 'response', id: w.id, ok: false, result: null, error: { code: 'pattern-too-slow', message: err.message } });
  }

  private answer(w: Waiter, satisfied: boolean, match?: string): void {
    if (!this.take(w)) return;
    const e = this.sup.exitInfo;
    w.conn.send({
      t: 'response',
      id: w.id,
      ok: true,
      result: {
        satisfied,
        ended: this.sup.ended,
        exitCode: e?.code ?? null,
        exitSignal: e?.signal ?? null,
        ...(match !== undefined ? { match } : {}),
      },
      error: null,
    });
  }

  /** Answers `w` when its pattern matches `text` (or, `final`, in any case). */
  private checkText(w: Waiter, re: TextPattern, text: string, final: boolean): void {
    let m: string | undefined;
    try {
      m = re.exec(text);
    } catch (err) {
      if (!(err instanceof PatternTooSlow)) throw err;
      this.failSlow(w, err);
      return;
    }
    if (m !== undefined || final) this.answer(w, m !== undefined, m);
  }

  /** Answers every waiter whose condition holds now; arms the timers the others need. */
  private check(): void {
    let nextIdle = Infinity;
    let text: string | undefined; // the screen once per check, not once per waiter
    for (const w of [...this.waiters]) {
      if (w.cond.until === 'idle') {
        const left = this.sup.activity.msUntilIdle(w.cond.idleMs);
        if (left <= 0) this.answer(w, true);
        else nextIdle = Math.min(nextIdle, left);
      } else if (w.cond.until === 'text') {
        this.checkText(w, w.cond.re, (text ??= this.sup.screen.visibleText()), false);
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
      if (w.cond.until === 'text') {
        this.checkText(w, w.cond.re, (text ??= this.sup.screen.visibleText()), true);
      } else {
        this.answer(w, true);
      }
    }
  }

  connectionClosed(c: Connection): void {
    for (const w of [...this.waiters]) {
      if (w.conn === c) this.take(w);
    }
  }
}
