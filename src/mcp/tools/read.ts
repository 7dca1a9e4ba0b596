import { z } from 'zod';
import { Mcp, keepTail } from '../limits';
import { describeEvent } from '../../client/event-text';
import type { SessionEvent } from '../../protocol/events';
import { captureShape, eventsShape } from '../schemas';
import { tool } from '../tool';

// Reading an agent's screen, whole or only what is new since the last call.

export const captureTool = tool({
  name: 'capture',
  title: "Read an agent's screen",
  description:
    "What the agent's screen shows, as text. With `scrollback`, its history too. Pass the `nextLine` of the previous call as `since` to read only what came after it (history included). Long text is cut to its newest part (`truncated`): ask with `lines` or `since` for less.",
  tier: 'read',
  input: {
    id: z.string(),
    lines: z.number().int().min(1).max(100_000).optional().describe('only the last N lines'),
    scrollback: z.boolean().optional().describe('include the history above the screen'),
    since: z.number().int().min(0).optional().describe('only lines from this number on: the nextLine of an earlier capture'),
    task: z.number().int().min(1).optional().describe("only what the agent printed in queued task N's turn"),
  },
  output: captureShape,
  annotations: { readOnlyHint: true },
  async run(ctx, args) {
    const c = await ctx.client.capture(args.id, { lines: args.lines, scrollback: args.scrollback, since: args.since, task: args.task });
    const { text, cut } = keepTail(c.text, Mcp.MaxResultChars);
    const structured = {
      id: c.id,
      status: c.status,
      text,
      cols: c.cols,
      rows: c.rows,
      final: c.final,
      firstLine: c.firstLine === null ? null : c.firstLine + (cut > 0 ? c.text.slice(0, cut).split('\n').length - 1 : 0),
      nextLine: c.nextLine,
      skipped: c.skipped,
      alternate: c.alternate,
      truncated: cut > 0,
    };
    const notes = [
      cut > 0 ? `[cut: the first ${cut} characters; ask with lines or since for less]` : '',
      c.skipped > 0 ? `[${c.skipped} lines had already left the history]` : '',
      c.nextLine !== null ? `[nextLine ${c.nextLine}: pass it as since to read only what comes after]` : '',
    ].filter(Boolean);
    return { structured, text: [text, ...notes].join('\n') };
  },
});

/** Events in one result at most (a result is text a model reads). */
const EVENTS_PER_CALL = 200;

export const eventsTool = tool({
  name: 'events',
  title: 'What happened',
  description:
    'What happened in agent sessions, oldest first: state changes with their reason (working, idle, blocked: the agent asks the user something, exited), queued tasks moving on (typed, submitted, started, done), viewers, resizes, notifications, exits. Give `id` for one agent (all agents otherwise). Pass the returned `nextById` (or `next` for one agent) as `since` to get only newer events; with `waitSeconds`, waits up to that long (at most ~25 s) for the next one.',
  tier: 'read',
  input: {
    id: z.string().optional().describe('one agent (default: every agent)'),
    since: z.union([z.number().int().min(0), z.record(z.string(), z.number().int().min(0))]).optional().describe('the next (one agent) or nextById (all) of the previous call'),
    waitSeconds: z.number().min(0).max(25).optional().describe('when there is nothing new yet, wait up to this long for it'),
  },
  output: eventsShape,
  annotations: { readOnlyHint: true },
  async run(ctx, args, extra) {
    const ids = args.id ? [args.id] : (await ctx.client.list({ detail: false })).filter((a) => a.backend === 'pty').map((a) => a.id);
    const sinceOf = (id: string): number => (typeof args.since === 'number' ? args.since : (args.since?.[id] ?? 0));
    const waitMs = Math.round((args.waitSeconds ?? 0) * 1000);
    const nextById: Record<string, number> = {};
    const out: Array<{ id: string; event: SessionEvent }> = [];
    let lost = 0;
    const readAll = async (wait: number) => {
      await Promise.all(
        ids.map(async (id) => {
          const r = await ctx.client.eventsAfter(id, sinceOf(id), { waitMs: wait, signal: extra.signal });
          nextById[id] = r.next;
          lost += r.lost;
          for (const e of r.events) out.push({ id, event: e });
        }),
      );
    };
    await readAll(0);
    if (out.length === 0 && waitMs > 0 && ids.length > 0) {
      // Nothing yet: wait on each agent at once, answered by the first to have something.
      const ac = new AbortController();
      extra.signal.addEventListener('abort', () => ac.abort(), { once: true });
      await Promise.race(
        ids.map((id) =>
          ctx.client.eventsAfter(id, nextById[id] ?? sinceOf(id), { waitMs, signal: ac.signal }).then(
            (r) => (r.events.length === 0 ? new Promise<void>(() => {}) : undefined),
            () => new Promise<void>(() => {}), // that agent went away: the others may still speak
          ),
        ).concat(new Promise<void>((r) => setTimeout(r, waitMs + 100))),
      );
      ac.abort();
      await readAll(0);
    }
    out.sort((a, b) => a.event.at - b.event.at || a.event.seq - b.event.seq);
    const shown = out.slice(0, EVENTS_PER_CALL);
    // Past the cap, each agent's next is that of its last event shown.
    if (shown.length < out.length) {
      for (const id of ids) {
        const last = shown.filter((e) => e.id === id).at(-1);
        nextById[id] = last ? last.event.seq + 1 : sinceOf(id);
      }
    }
    const events = shown.map((e) => ({ ...e.event, id: e.id, at: new Date(e.event.at).toISOString() }));
    const lines = shown.map((e) => `${new Date(e.event.at).toISOString()} ${e.id} ${describeEvent(e.event)}`);
    if (lost > 0) lines.push(`[${lost} older events were no longer held]`);
    if (shown.length < out.length) lines.push(`[${out.length - shown.length} more: call again with since = nextById]`);
    return {
      structured: { events, next: args.id ? (nextById[args.id] ?? 0) : 0, nextById, lost },
      text: lines.length > 0 ? lines.join('\n') : 'No new events.',
    };
  },
});
