import { UserError } from '../../errors';
import { type EventsReply, MAX_EVENTS_PER_REPLY, MAX_EVENTS_WAIT_MS } from '../../protocol/ops';
import { findSession } from '../../sessions/find';
import { isEnded } from '../../store/types';
import type { Context } from '../context';
import type { AgentEvent, EventsOptions } from '../types';
import { list } from './list';

// `events`: what happened in sessions, from each session's journal (its supervisor while it
// runs, its events.jsonl after). Without follow: everything held, oldest first. With
// follow: that, then each event as it comes, from every session named, or without names
// from every session there is and every one that appears, until the signal aborts.

/** A long poll's length: under any client's patience, long enough to cost nothing. */
const POLL_WAIT_MS = 25_000;
/** Without names, how often new sessions are looked for. */
const NEW_SESSIONS_MS = 2000;
/** An unreachable session is asked again after this long. */
const RETRY_MS = 1000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** The events of one session after `since`, in one or more replies; the number to ask next. */
async function drain(ctx: Context, id: string, since: number, waitMs: number): Promise<{ events: AgentEvent[]; next: number; ended: boolean }> {
  const rec = await findSession(ctx.backends, id);
  const backend = ctx.backends.for(rec);
  if (!backend.events) return { events: [], next: since, ended: true };
  const out: AgentEvent[] = [];
  let next = since;
  for (let first = true; ; first = false) {
    const r = await backend.events(rec, { since: next, waitMs: first ? waitMs : 0, limit: MAX_EVENTS_PER_REPLY });
    r.events.forEach((e, i) => out.push({ id: rec.uuid, event: e, lostBefore: i === 0 ? r.lost : 0 }));
    next = r.next;
    if (r.events.length < MAX_EVENTS_PER_REPLY) break;
  }
  return { events: out, next, ended: isEnded(rec) };
}

/** One read of a session's events after `since` (waiting up to `waitMs` for one while it runs). */
export async function eventsAfter(ctx: Context, id: string, since: number, opts: { waitMs?: number; signal?: AbortSignal } = {}): Promise<EventsReply> {
  const rec = await findSession(ctx.backends, id);
  const backend = ctx.backends.for(rec);
  if (!backend.events) throw new UserError(`Agent session ${rec.uuid} runs in tmux, which keeps no events (the pty backend does)`);
  if (opts.signal?.aborted) return { events: [], next: since, lost: 0 };
  return backend.events(rec, { since, waitMs: Math.min(opts.waitMs ?? 0, MAX_EVENTS_WAIT_MS), limit: MAX_EVENTS_PER_REPLY });
}

export async function* events(ctx: Context, ids: string[], opts: EventsOptions = {}): AsyncGenerator<AgentEvent> {
  const named = ids.length > 0;
  for (const id of ids) await findSession(ctx.backends, id); // unknown ids fail first
  const startIds = named ? ids : (await list(ctx, { detail: false })).filter((a) => a.backend === 'pty').map((a) => a.id);
  const after = opts.after ?? 0;

  // What is held now, merged by time.
  const next = new Map<string, number>();
  const past: AgentEvent[] = [];
  for (const id of startIds) {
    try {
      const r = await drain(ctx, id, 0, 0);
      past.push(...r.events);
      next.set(id, r.next);
    } catch (err) {
      if (named) throw err;
    }
  }
  past.sort((a, b) => a.event.at - b.event.at || a.event.seq - b.event.seq);
  for (const e of past) if (e.event.at >= after) yield e;
  if (!opts.follow) return;

  // Then live: a long poll per session, their events handed over through one queue.
  const signal = opts.signal;
  const queue: AgentEvent[] = [];
  let wake: (() => void) | null = null;
  const push = (e: AgentEvent) => {
    queue.push(e);
    wake?.();
  };
  const watching = new Set<string>();
  const watch = (id: string, from: number) => {
    watching.add(id);
    void (async () => {
      let since = from;
      while (!signal?.aborted) {
        try {
          const r = await drain(ctx, id, since, POLL_WAIT_MS);
          for (const e of r.events) push(e);
          since = r.next;
          if (r.ended && r.events.length === 0) break; // its last events were read after the end
        } catch (err) {
          if (err instanceof UserError && /not found/i.test(err.message)) break; // killed and forgotten
          await sleep(RETRY_MS, signal);
        }
      }
    })();
  };
  for (const id of startIds) watch(id, next.get(id) ?? 0);
  if (!named) {
    void (async () => {
      while (!signal?.aborted) {
        await sleep(NEW_SESSIONS_MS, signal);
        if (signal?.aborted) break;
        try {
          for (const a of await list(ctx, { detail: false })) if (a.backend === 'pty' && !watching.has(a.id)) watch(a.id, 0);
        } catch {
          /* the next look */
        }
      }
    })();
  }
  const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
  while (!signal?.aborted) {
    if (queue.length === 0) {
      await Promise.race([new Promise<void>((r) => (wake = r)), aborted]);
      wake = null;
      continue;
    }
    yield queue.shift()!;
  }
}
