import type { WaitCondition } from '../../backends/backend';
import { UserError } from '../../errors';
import { findSession } from '../../sessions/find';
import { TextPattern } from '../../text-pattern';
import { STATE_NAMES } from '../../protocol/events';
import type { Context } from '../context';
import { task } from './queue';
import type { WaitFor, WaitOptions, WaitOutcome } from '../types';

/** Node timers hold at most 2^31-1 ms (24.8 days); longer waits would fire at once. */
const MAX_MS = 2_000_000_000;

function condition(w: WaitFor): WaitCondition {
  switch (w.until) {
    case 'exit':
      return { until: 'exit' };
    case 'idle': {
      const ms = w.idleMs;
      if (ms !== undefined && (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS)) throw new UserError(`Invalid idle time ${ms}: give milliseconds`);
      return { until: 'idle', idleMs: ms === undefined ? null : Math.round(ms) };
    }
    case 'text': {
      const pattern = typeof w.pattern === 'string' ? w.pattern : w.pattern.source;
      const flags = typeof w.pattern === 'string' ? '' : w.pattern.flags;
      try {
        TextPattern.compile(pattern, flags);
      } catch (err) {
        throw new UserError(`Invalid text pattern: ${(err as Error).message}`);
      }
      return { until: 'text', pattern, flags };
    }
    case 'state': {
      const bad = w.states.filter((s) => !(STATE_NAMES as readonly string[]).includes(s));
      if (w.states.length === 0 || bad.length > 0) throw new UserError(`Unknown state ${JSON.stringify(bad[0] ?? '')}: use ${STATE_NAMES.join(', ')}`);
      return { until: 'state', states: w.states };
    }
    case 'task':
      if (!Number.isInteger(w.task) || w.task < 1) throw new UserError('The task must be a task number from `queue` (1, 2, …)');
      return { until: 'task', task: w.task };
    default:
      throw new UserError(`Unknown wait condition ${JSON.stringify((w as { until: unknown }).until)}: use idle, exit, text, state or task`);
  }
}

/** Blocks until the condition holds, the timeout passes (satisfied: false) or the signal aborts. */
export async function wait(ctx: Context, rawId: string, what: WaitFor, opts: WaitOptions = {}): Promise<WaitOutcome> {
  const cond = condition(what);
  const timeout = opts.timeout;
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0 || timeout > MAX_MS)) throw new UserError('Invalid timeout: give milliseconds');
  const rec = await findSession(ctx.backends, rawId);
  const res = await ctx.backends.for(rec).wait(rec, cond, { timeoutMs: timeout === undefined ? null : Math.round(timeout), signal: opts.signal });
  return {
    satisfied: res.satisfied,
    ended: res.ended,
    exitCode: res.exitCode,
    exitSignal: res.exitSignal,
    match: res.match,
    state: res.state,
    task: res.task ? task(res.task) : null,
  };
}
