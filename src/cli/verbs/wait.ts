import * as os from 'node:os';
import type { WaitFor } from '../../client/types';
import { EXIT_GONE, EXIT_TIMEOUT, UserError } from '../../errors';
import { type VerbEntry, options, print, warn } from '../verb';
import { MAX_SECONDS, positiveInt, seconds } from '../parse';
import { STATE_NAMES, type StateName } from '../../protocol/events';

interface Flags {
  idle?: string | boolean;
  exit?: boolean;
  text?: string;
  blocked?: boolean;
  state?: string;
  task?: number;
  timeout?: number;
}

function condition(f: Flags): WaitFor {
  const chosen = [f.idle !== undefined, f.exit === true, f.text !== undefined, f.blocked === true, f.state !== undefined, f.task !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new UserError('Choose exactly one of --idle [SECONDS], --blocked, --state STATES, --task N, --exit or --text REGEX');
  if (f.exit) return { until: 'exit' };
  if (f.blocked) return { until: 'state', states: ['blocked'] };
  if (f.task !== undefined) return { until: 'task', task: f.task };
  if (f.state !== undefined) {
    const states = f.state.split(',').map((s) => s.trim());
    const bad = states.find((s) => !(STATE_NAMES as readonly string[]).includes(s));
    if (bad !== undefined) throw new UserError(`Unknown state ${JSON.stringify(bad)}: use ${STATE_NAMES.join(', ')} (several with commas)`);
    return { until: 'state', states: states as StateName[] };
  }
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
    { flags: '--idle [seconds]', description: "until the agent waits for input: idle or blocked (with SECONDS: quiet for that long instead of the session's idle time)" },
    { flags: '--blocked', description: 'until the agent asks something (a permission, a question)' },
    { flags: '--state <states>', description: 'until the agent is in one of these states (comma-separated: idle,blocked)' },
    { flags: '--task <n>', description: 'until queued task N is done; prints its receipt', parse: positiveInt },
    { flags: '--exit', description: "until the agent exits; exits with the agent's code" },
    { flags: '--text <regex>', description: 'until the screen matches REGEX' },
    { flags: '--timeout <seconds>', description: 'give up after SECONDS, exit code 124', parse: seconds },
  ],
  examples: [
    'symposium-mcp agent wait my-agent-1 --idle 5 --timeout 600',
    'symposium-mcp agent wait my-agent-1 --text "All tests passed"',
    'symposium-mcp agent wait my-agent-1 --task 3 && symposium-mcp agent capture my-agent-1 --task 3',
  ],
  exitCodes: [
    ['0', 'the condition holds'],
    ['124', 'the timeout passed first'],
    ['3', '--idle, --blocked, --state, --task or --text: the agent has ended instead'],
    ['N', "--exit: the agent's own exit code (128+signal when killed)"],
  ],
  /** Exit code: 0, the agent's code for --exit, 124 on timeout, 3 when it ended instead. */
  async run(client, [rawId], raw) {
    const f = options<Flags>(raw);
    const id = rawId as string;
    const what = condition(f);
    const res = await client.wait(id, what, { timeout: f.timeout !== undefined ? Math.round(f.timeout * 1000) : undefined });
    if (!res.satisfied && !res.ended) {
      const how =
        what.until === 'idle'
          ? 'to become idle'
          : what.until === 'exit'
            ? 'to exit'
            : what.until === 'state'
              ? `to be ${what.states.join(' or ')}`
              : what.until === 'task'
                ? `to finish task ${what.task}`
                : `to show /${f.text}/`;
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
    if (what.until === 'task' && res.task?.state === 'done') {
      const t = res.task;
      const took = t.submittedAt && t.doneAt ? ` in ${((Date.parse(t.doneAt) - Date.parse(t.submittedAt)) / 1000).toFixed(1)} s` : '';
      print(`Task ${t.index} done${took} (${t.doneState ?? 'ended'})`);
      return 0;
    }
    if (what.until === 'state' && res.satisfied && res.state) {
      print(`Agent session ${id} is ${res.state}`);
      return 0;
    }
    if (res.ended) {
      const how = res.exitSignal ? `was killed by ${res.exitSignal}` : `exited with code ${res.exitCode}`;
      const what2 = what.until === 'text' ? `without showing /${f.text}/` : what.until === 'task' ? `before task ${what.task} was done` : what.until === 'state' ? `without being ${what.states.join(' or ')}` : 'and will not become idle';
      warn(`Agent session ${id} has ended (it ${how}) ${what2}`);
      return EXIT_GONE;
    }
    return 0;
  },
};
