import type { WaitCondition } from '../backends/backend';
import { backendFor } from '../backends';
import { EXIT_TIMEOUT, UserError } from '../errors';
import { findSession } from './session';

export interface WaitFlags {
  idle?: string | boolean;
  exit?: boolean;
  text?: string;
  timeout?: number;
}

function condition(flags: WaitFlags, defaultIdleMs: number): WaitCondition {
  const chosen = [flags.idle !== undefined, flags.exit === true, flags.text !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new UserError('Choose exactly one of --idle [SECONDS], --exit or --text REGEX');
  if (flags.exit) return { until: 'exit' };
  if (flags.text !== undefined) {
    try {
      new RegExp(flags.text);
    } catch (err) {
      throw new UserError(`Invalid --text pattern: ${(err as Error).message}`);
    }
    return { until: 'text', pattern: flags.text, flags: '' };
  }
  if (flags.idle === true) return { until: 'idle', idleMs: defaultIdleMs };
  const secs = Number(flags.idle);
  if (!Number.isFinite(secs) || secs < 0 || secs > 2_000_000) throw new UserError(`Invalid --idle value ${JSON.stringify(flags.idle)}: give seconds`);
  return { until: 'idle', idleMs: Math.round(secs * 1000) };
}

/** Returns the CLI exit code: 0, the agent's code for --exit, 124 on timeout. */
export async function waitCommand(rawId: string, flags: WaitFlags): Promise<number> {
  const cond = condition(flags, -1); // -1: the session's own threshold
  if (flags.timeout !== undefined && (!Number.isFinite(flags.timeout) || flags.timeout < 0)) {
    throw new UserError('Invalid --timeout: give seconds');
  }
  const rec = await findSession(rawId);
  const timeoutMs = flags.timeout !== undefined ? Math.round(flags.timeout * 1000) : null;
  const res = await backendFor(rec).wait(rec, cond, timeoutMs);
  if (!res.satisfied) {
    const what = cond.until === 'idle' ? 'to become idle' : cond.until === 'exit' ? 'to exit' : `to show /${flags.text}/`;
    process.stderr.write(`Timed out after ${flags.timeout} s waiting for agent session ${rec.uuid} ${what}\n`);
    return EXIT_TIMEOUT;
  }
  if (cond.until === 'exit') {
    const how = res.exitSignal ? `killed by ${res.exitSignal}` : `exited with code ${res.exitCode}`;
    process.stdout.write(`Agent session ${rec.uuid} ${how}\n`);
    if (res.exitSignal) return 128 + signalNumber(res.exitSignal);
    return res.exitCode ?? 1;
  }
  if (cond.until === 'text') {
    if (res.match === undefined) {
      // The agent ended and its final screen never showed the text.
      throw new UserError(`Agent session ${rec.uuid} ended without showing /${flags.text}/`);
    }
    process.stdout.write(`${res.match}\n`);
  }
  return 0;
}

function signalNumber(sig: string): number {
  const n = (require('node:os') as typeof import('node:os')).constants.signals[sig as NodeJS.Signals];
  return typeof n === 'number' ? n : 0;
}
