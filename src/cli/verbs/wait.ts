import * as os from 'node:os';
import type { WaitFor } from '../../client/types';
import { EXIT_GONE, EXIT_TIMEOUT, UserError } from '../../errors';
import { type VerbEntry, options, print, warn } from '../verb';
import { MAX_SECONDS, seconds } from '../parse';

interface Flags {
  idle?: string | boolean;
  exit?: boolean;
  text?: string;
  timeout?: number;
}

function condition(f: Flags): WaitFor {
  const chosen = [f.idle !== undefined, f.exit === true, f.text !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new UserError('Choose exactly one of --idle [SECONDS], --exit or --text REGEX');
  if (f.exit) return { until: 'exit' };
  if (f.text !== undefined) {
    try {
      new RegExp(f.text);
    } catch (err) {
      throw new UserError(`Invalid --text pattern: ${(err as Error).message}`);
    }
    return { until: 'text', pattern: f.text };
  }
  if (f.idle === true) return { until: 'idle' };
  const secs = Number(f.idle);
  if (!Number.isFinite(secs) || secs < 0 || secs > MAX_SECONDS) throw new UserError(`Invalid --idle value ${JSON.stringify(f.idle)}: give seconds`);
  return { until: 'idle', idleMs: Math.round(secs * 1000) };
}

function signalNumber(sig: string): number {
  const n = os.constants.signals[sig as NodeJS.Signals];
  return typeof n === 'number' ? n : 0;
}

export const waitVerb: VerbEntry = {
  name: 'wait',
  summary: 'block until the agent is idle, has exited, or shows some text',
  args: [{ name: '<id>', description: 'session id' }],
  options: [
    { flags: '--idle [seconds]', description: "until quiet for SECONDS (default: the session's idle time)" },
    { flags: '--exit', description: "until the agent exits; exits with the agent's code" },
    { flags: '--text <regex>', description: 'until the screen matches REGEX' },
    { flags: '--timeout <seconds>', description: 'give up after SECONDS, exit code 124', parse: seconds },
  ],
  examples: ['symposium-mcp agent wait my-agent-1 --idle 5 --timeout 600', 'symposium-mcp agent wait my-agent-1 --text "All tests passed"'],
  exitCodes: [
    ['0', 'the condition holds'],
    ['124', 'the timeout passed first'],
    ['3', '--idle or --text: the agent has ended instead'],
    ['N', "--exit: the agent's own exit code (128+signal when killed)"],
  ],
  /** Exit code: 0, the agent's code for --exit, 124 on timeout, 3 when it ended instead. */
  async run(client, [rawId], raw) {
    const f = options<Flags>(raw);
    const id = rawId as string;
    const what = condition(f);
    const res = await client.wait(id, what, { timeout: f.timeout !== undefined ? Math.round(f.timeout * 1000) : undefined });
    if (!res.satisfied && !res.ended) {
      const how = what.until === 'idle' ? 'to become idle' : what.until === 'exit' ? 'to exit' : `to show /${f.text}/`;
      warn(`Timed out after ${f.timeout} s waiting for agent session ${id} ${how}`);
      return EXIT_TIMEOUT;
    }
    if (what.until === 'exit' && res.satisfied) {
      const how = res.exitSignal ? `killed by ${res.exitSignal}` : `exited with code ${res.exitCode}`;
      print(`Agent session ${id} ${how}`);
      if (res.exitSignal) return 128 + signalNumber(res.exitSignal);
      return res.exitCode ?? 1;
    }
    if (what.until === 'text' && res.match !== null) {
      print(res.match);
      return 0;
    }
    if (res.ended) {
      const how = res.exitSignal ? `was killed by ${res.exitSignal}` : `exited with code ${res.exitCode}`;
      const what2 = what.until === 'text' ? `without showing /${f.text}/` : 'and will not become idle';
      warn(`Agent session ${id} has ended (it ${how}) ${what2}`);
      return EXIT_GONE;
    }
    return 0;
  },
};
