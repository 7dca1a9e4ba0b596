import type { Connection } from './connection';
import type { Supervisor } from './supervisor';

// `agent wait` on the supervisor's side: each waiter is answered once, when its
// condition holds, when the agent ends, or when its timeout passes. Timers exist only
// while someone waits, so an idle supervisor does no work.

type Cond = { until: 'idle'; idleMs: number } | { until: 'exit' } | { until: 'text'; re: RegExp };

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

  private answer(w: Waiter, satisfied: boolean, match?: string): void {
    if (!this.waiters.delete(w)) return;
    if (w.timeout) clearTimeout(w.timeout);
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

  private textMatch(re: RegExp, text = this.sup.screen.visibleText()): string | undefined {
    re.lastIndex = 0; // a "g" or "y" flag must not make the next check start mid-screen
    const m = re.exec(text);
    return m ? m[0] : undefined;
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
        const m = this.textMatch(w.cond.re, (text ??= this.sup.screen.visibleText()));
        if (m !== undefined) this.answer(w, true, m);
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
    for (const w of [...this.waiters]) {
      if (w.cond.until === 'text') {
        const m = this.textMatch(w.cond.re);
        this.answer(w, m !== undefined, m);
      } else {
        this.answer(w, true);
      }
    }
  }

  connectionClosed(c: Connection): void {
    for (const w of [...this.waiters]) {
      if (w.conn === c) {
        if (w.timeout) clearTimeout(w.timeout);
        this.waiters.delete(w);
      }
    }
  }
}
