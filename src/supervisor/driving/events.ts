// The session's event journal: everything worth telling a watcher (state changes with
// their reason, tasks moving through their receipts, viewers coming and going, resizes,
// notifications, the exit), numbered, in a bounded ring. A reader asks for the events after
// the last number it saw and is told how many it lost if it fell behind; it never slows
// the supervisor (a long poll only waits for the next event).

export type SessionEvent =
  | { type: 'spawned'; command: string[]; workdir: string }
  | { type: 'state'; state: string; from: string; reason: string }
  | { type: 'task'; index: number; state: string }
  | { type: 'viewer'; action: 'attached' | 'detached'; viewer: number; readOnly: boolean }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'notification'; text: string }
  | { type: 'exited'; code: number | null; signal: string | null };

export type Numbered = SessionEvent & { seq: number; at: number };

/** Events kept per session (a few hundred bytes each: ~1 MB at most). */
export const JOURNAL_EVENTS = 2000;

export class EventJournal {
  private readonly ring: Numbered[] = [];
  private next = 1;
  private waiters = new Set<() => void>();

  constructor(
    private readonly capacity = JOURNAL_EVENTS,
    private readonly now: () => number = Date.now,
  ) {}

  add(e: SessionEvent): Numbered {
    const n = { ...e, seq: this.next++, at: this.now() } as Numbered;
    this.ring.push(n);
    if (this.ring.length > this.capacity) this.ring.shift();
    const ws = this.waiters;
    this.waiters = new Set();
    for (const w of ws) w();
    return n;
  }

  /** The number the next event will get. */
  get nextSeq(): number {
    return this.next;
  }

  /** Events numbered `since` or later (at most `limit`), the number to ask from next, and how many were lost. */
  read(since: number, limit: number): { events: Numbered[]; next: number; lost: number } {
    const oldest = this.ring[0]?.seq ?? this.next;
    const from = Math.max(since, oldest);
    const lost = Math.max(0, Math.min(oldest, this.next) - since);
    const events = this.ring.slice(from - oldest, from - oldest + limit);
    return { events, next: events.length > 0 ? events[events.length - 1]!.seq + 1 : Math.max(since, from), lost };
  }

  /** Resolves at the next event, or after `ms` (a long poll); `cancel` gives up. */
  nextEvent(ms: number): { done: Promise<void>; cancel: () => void } {
    let timer: NodeJS.Timeout | null = null;
    let wake: (() => void) | null = null;
    const done = new Promise<void>((resolve) => {
      wake = () => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(wake!);
        resolve();
      };
      this.waiters.add(wake);
      timer = setTimeout(wake, ms);
    });
    return { done, cancel: () => wake?.() };
  }
}
