import { z } from 'zod';
import type { WaitFor } from '../../client/types';
import { UserError } from '../../errors';
import { waitShape } from '../schemas';
import { type Extra, tool } from '../tool';
import { Mcp } from '../limits';

// Waiting server-side (a polling loop would burn the caller's quota): until the agent is
// idle, has exited or shows a text. A client may give up on a call after 30 s, so a long
// wait reports progress while it waits and returns `pending` at the server's cap, saying
// what to call to go on, instead of failing.

/**
 * Sends progress every Mcp.ProgressMs (and at least three times before a shorter cap),
 * when the client asked for it (gave a progress token).
 */
function progress(extra: Extra, what: string, totalMs: number): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => {};
  const every = Math.max(200, Math.min(Mcp.ProgressMs, Math.floor(totalMs / 3)));
  const start = Date.now();
  const timer = setInterval(() => {
    const ms = Date.now() - start;
    void extra
      .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ms, total: totalMs, message: `${what}: ${Math.round(ms / 1000)} s` } })
      .catch(() => {});
  }, every);
  return () => clearInterval(timer);
}

export const waitTool = tool({
  name: 'wait',
  title: 'Wait for an agent',
  description:
    'Blocks until the agent waits for input (`idle`: idle or blocked), asks the user something (`blocked`), has finished queued task `task` (`task`), has exited, or its screen matches `pattern` (a JavaScript regular expression). Returns status "satisfied", "timeout" (your timeoutSeconds passed), "ended" (the agent exited first) or "pending": the server waits at most ~25 s per call; on "pending" call wait again with the same arguments.',
  tier: 'read',
  input: {
    id: z.string(),
    until: z.enum(['idle', 'blocked', 'task', 'exit', 'text']).describe('idle: waits for input (idle or blocked); blocked: asks the user something; task: task N is done'),
    task: z.number().int().min(1).optional().describe('for until "task": the index `queue` returned'),
    pattern: z.string().optional().describe('for until "text": a regular expression the screen must match'),
    idleSeconds: z.number().min(0).max(86_400).optional().describe("for until \"idle\": quiet this long (default: the session's idle time)"),
    timeoutSeconds: z.number().min(0).max(86_400).optional().describe('give up after this long in all (default: never; each call still returns "pending" at the server cap)'),
  },
  output: waitShape,
  annotations: { readOnlyHint: true },
  async run(ctx, args, extra) {
    let what: WaitFor;
    if (args.until === 'text') {
      if (!args.pattern) throw new UserError('until "text" needs a pattern');
      what = { until: 'text', pattern: args.pattern };
    } else if (args.until === 'blocked') {
      what = { until: 'state', states: ['blocked'] };
    } else if (args.until === 'task') {
      if (args.task === undefined) throw new UserError('until "task" needs task (the index queue returned)');
      what = { until: 'task', task: args.task };
    } else if (args.until === 'idle') {
      what = { until: 'idle', idleMs: args.idleSeconds !== undefined ? Math.round(args.idleSeconds * 1000) : undefined };
    } else {
      what = { until: 'exit' };
    }
    const budgetMs = args.timeoutSeconds !== undefined ? Math.round(args.timeoutSeconds * 1000) : Infinity;
    const capMs = Math.min(budgetMs, ctx.waitCapMs);
    const start = Date.now();
    const stop = progress(extra, `waiting for ${args.id} (${args.until})`, capMs);
    let r;
    try {
      r = await ctx.client.wait(args.id, what, { timeout: capMs, signal: extra.signal });
    } finally {
      stop();
    }
    const waitedMs = Date.now() - start;
    const base = { id: args.id, waitedMs, match: r.match, exitCode: r.exitCode, exitSignal: r.exitSignal, state: r.state, task: r.task, next: null };
    const done = args.until === 'task' ? r.task?.state === 'done' : !(r.ended && args.until !== 'exit' && r.match === null);
    if (r.satisfied && done) {
      const text =
        args.until === 'exit'
          ? `${args.id} exited (${r.exitSignal ?? `code ${r.exitCode}`})`
          : args.until === 'text'
            ? `${args.id} shows: ${r.match}`
            : args.until === 'task'
              ? `${args.id}: task ${args.task} is done (${r.task?.doneState ?? 'ended'}); capture with task ${args.task} shows its turn`
              : `${args.id} is ${r.state ?? 'idle'}`;
      return { structured: { ...base, status: 'satisfied' as const }, text };
    }
    if (r.ended) {
      return { structured: { ...base, status: 'ended' as const }, text: `${args.id} has ended (${r.exitSignal ?? `exit code ${r.exitCode}`}) before that happened` };
    }
    if (capMs < budgetMs) {
      const left = budgetMs === Infinity ? undefined : Math.max(0, (budgetMs - waitedMs) / 1000);
      const next = `call wait with the same arguments${left !== undefined ? ` and timeoutSeconds ${Math.round(left)}` : ''}`;
      return { structured: { ...base, status: 'pending' as const, next }, text: `Still waiting for ${args.id} after ${Math.round(waitedMs / 1000)} s (the server's cap per call): ${next} to go on.` };
    }
    return { structured: { ...base, status: 'timeout' as const }, text: `Timed out after ${Math.round(waitedMs / 1000)} s waiting for ${args.id}` };
  },
});
