import type { SessionEvent, SessionEventBody } from '../../protocol/events';
import { MAX_EVENTS_PER_REPLY } from '../../protocol/ops';

// The session's event journal: everything worth telling a watcher (state changes with their
// reason, tasks moving through their receipts, viewers coming and going, resizes,
// notifications, the exit), numbered, in a bounded ring, each also handed to `persist`
// (events.jsonl, for readers after the end). A reader asks for the events after the last
// number it saw and is told how many it lost if it fell behind; it never slows the
// supervisor (a long poll only waits for the next event, and replies are bounded).

/** Events kept in memory (a few hundred bytes each: at most ~200 KB, and only a busy session fills it). */
export const JOURNAL_EVENTS = 1000;

export class EventJournal {
  private readonly ring: SessionEvent[] = [];
  private next: number;
  private waiters = new Set<() => void>();

  /**
   * @param firstSeq the number of the first event (after those a previous supervisor of this session wrote)
   * @param persist called with each event (its errors are the caller's to swallow)
   */
  constructor(
    firstSeq: number,
    private readonly persist: (e: SessionEvent) => void,
    private readonly capacity = JOURNAL_EVENTS,
    private readonly now: () => number = Date.now,
  ) {
    this.next = firstSeq;
  }

  add(body: SessionEventBody): SessionEvent {
    const e = { ...body, seq: this.next++, at: this.now() } as SessionEvent;
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    this.persist(e);
    const ws = this.waiters;
    this.waiters = new Set();
    for (const w of ws) w();
    return e;
  }

  /** The number the next event will get. */
  get nextSeq(): number {
    return this.next;
  }

  /**
   * Events numbered `since` or later (at most `limit`), the number to ask for next, and how
   * many of those asked for are no longer held (older than the ring: events.jsonl has them).
   */
  read(since: number, limit = MAX_EVENTS_PER_REPLY): { events: SessionEvent[]; next: number; lost: number } {
    const oldest = this.ring[0]?.seq ?? this.next;
    const from = Math.max(since, oldest);
    const lost = Math.max(0, oldest - Math.max(since, 1));
    const events = this.ring.slice(from - oldest, from - oldest + Math.min(limit, MAX_EVENTS_PER_REPLY));
    return { events, next: events.length > 0 ? events[events.length - 1]!.seq + 1 : Math.min(from, this.next), lost: since < oldest ? lost : 0 };
  }

  /** Resolves at the next event, after `ms` (a long poll), or when cancelled, saying which. */
  nextEvent(ms: number): { done: Promise<'event' | 'timeout' | 'cancelled'>; cancel: () => void } {
    let end: (why: 'event' | 'timeout' | 'cancelled') => void = () => {};
    const done = new Promise<'event' | 'timeout' | 'cancelled'>((resolve) => {
      const timer = setTimeout(() => end('timeout'), ms);
      const wake = () => end('event');
      end = (why) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(why);
      };
      this.waiters.add(wake);
    });
    return { done, cancel: () => end('cancelled') };
  }
}
