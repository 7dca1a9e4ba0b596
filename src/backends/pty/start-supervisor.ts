import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST_DIR } from '../../dist-dir';
import { UserError, describeFsError, fsErrorAdvice } from '../../errors';
import { supervisorEnv } from '../../held-env';
import type { SupervisorConfig } from '../../store/session-dir';
import { openForAppend, readFileNoFollow } from '../../sys/read-file';
import { scopePrefix } from './user-scope';

// Starts a supervisor detached in its own session (setsid), stdio to its log, and waits
// for its readiness report on fd 3: `started PID` first thing, then `ready AGENT_PID` or
// `error MESSAGE`. Started in a user systemd scope of its own when one can be made
// (user-scope.ts): an attempt whose supervisor never said `started` is made again plainly.

/** Runs the supervisor's one-file bundle with its code cache, else its modules (supervisor/launch.ts). */
const SUPERVISOR_MAIN = path.join(DIST_DIR, 'supervisor', 'launch.js');
const READY_TIMEOUT_MS = 15_000;

/** V8 flags that keep an idle supervisor small: one V8 worker thread instead of four, GC on
 *  the main thread (~0.7 MB less private memory each), a young generation capped at 4 MB
 *  (an idle one stays at 1 MB either way; measured: 1 MB cost a 100 MB flood 5-8 % in GC,
 *  4 MB raised its peak from 129 to 137 MB, 8 MB gained nothing more; a burst grows it to twice the
 *  cap, given back by V8's memory reducer ~10 s after: 2 MB saved 2.5 MiB of a full history's
 *  PSS read 3 s after its output, nothing once idle), and `gc` exposed for one collection
 *  after start-up (settle-gc.ts). */
export const SUPERVISOR_NODE_FLAGS = ['--max-semi-space-size=4', '--v8-pool-size=1', '--single-threaded-gc', '--expose-gc'];

/** What one attempt to start the supervisor came to. */
type Outcome =
  | { kind: 'ready'; supervisorPid: number; agentPid: number }
  | { kind: 'refused'; message: string }
  /** The supervisor never ran: what was to start it (systemd-run) failed first. */
  | { kind: 'not-started' }
  | { kind: 'died' }
  | { kind: 'timeout' };

/** A scope that does not start within this long is given up for a plain start. */
const SCOPE_START_TIMEOUT_MS = 5000;

export async function startSupervisor(
  config: SupervisorConfig,
  configPath: string,
  logPath: string,
  env: NodeJS.ProcessEnv,
): Promise<{ supervisorPid: number; agentPid: number }> {
  const node = [process.execPath, ...SUPERVISOR_NODE_FLAGS, SUPERVISOR_MAIN, configPath];
  // In a user scope of its own when systemd can make one (user-scope.ts), else as it is.
  const scope = scopePrefix(env, `symposium-agent-${config.id}-${config.createdAtMs}`);
  let outcome: Outcome = scope ? await attempt([...scope, ...node], config, logPath, env, SCOPE_START_TIMEOUT_MS) : { kind: 'not-started' };
  if (outcome.kind === 'not-started') outcome = await attempt(node, config, logPath, env, null);
  switch (outcome.kind) {
    case 'ready':
      return { supervisorPid: outcome.supervisorPid, agentPid: outcome.agentPid };
    case 'refused':
      throw new UserError(`Failed to start agent session ${config.id}: ${outcome.message}`);
    case 'timeout':
      throw new UserError(`The supervisor of ${config.id} did not start within ${READY_TIMEOUT_MS / 1000} s. See ${logPath}`);
    default:
      throw new UserError(`The supervisor of ${config.id} exited before it was ready. See ${logPath}:\n${tail(logPath)}`);
  }
}

/**
 * Starts argv detached, stdio to the log, fd 3 a pipe on which the supervisor says
 * `started PID` first thing, then `ready AGENT_PID` or `error MESSAGE`. `startMs`: how
 * long the supervisor may take to say it started (null: as long as READY_TIMEOUT_MS).
 */
function attempt(argv: string[], config: SupervisorConfig, logPath: string, env: NodeJS.ProcessEnv, startMs: number | null): Promise<Outcome> {
  let logFd: number;
  try {
    logFd = openForAppend(logPath);
  } catch (err) {
    throw new UserError(`Cannot open the supervisor's log ${logPath}: ${describeFsError(err)}. ${fsErrorAdvice(err)}`, { cause: err });
  }
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    cwd: config.workdir,
    env: supervisorEnv(env), // the agent gets the user's back (agent-process.ts)
    stdio: ['ignore', logFd, logFd, 'pipe'],
  });
  fs.closeSync(logFd);
  const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const settle = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(startTimer);
      child.unref();
      (pipe as unknown as { destroy?: () => void } | null)?.destroy?.();
      resolve(o);
    };
    const kill = () => {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    const timer = setTimeout(() => {
      kill();
      settle({ kind: 'timeout' });
    }, READY_TIMEOUT_MS);
    const started = () => text.startsWith('started ');
    const startTimer =
      startMs === null
        ? undefined
        : setTimeout(() => {
            if (started()) return;
            kill();
            settle({ kind: 'not-started' });
          }, startMs);
    const lines = () => text.split('\n').filter((l) => l !== '' && !l.startsWith('started '));
    const check = (ended: boolean) => {
      const line = lines()[0];
      if (line === undefined) {
        if (ended) settle(started() ? { kind: 'died' } : { kind: 'not-started' });
        return;
      }
      const ready = /^ready (\d+)$/.exec(line);
      if (ready) return settle({ kind: 'ready', supervisorPid: child.pid!, agentPid: Number(ready[1]) });
      if (line.startsWith('error ')) return settle({ kind: 'refused', message: line.slice(6) });
      settle({ kind: 'died' });
    };
    pipe?.setEncoding('utf8');
    pipe?.on('data', (d: string) => {
      text += d;
      if (text.endsWith('\n')) check(false);
    });
    pipe?.on('end', () => check(true));
    pipe?.on('error', () => check(true));
    child.on('error', (err) => {
      if (started()) settle({ kind: 'died' });
      else if (startMs !== null) settle({ kind: 'not-started' });
      else settle({ kind: 'refused', message: `cannot start the supervisor: ${err.message}` });
    });
  });
}
function tail(file: string): string {
  try {
    return readFileNoFollow(file).split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}
