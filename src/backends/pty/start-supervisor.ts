import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST_DIR } from '../../dist-dir';
import { UserError, describeFsError, fsErrorAdvice } from '../../errors';
import { SUPERVISOR_NODE_FLAGS, supervisorEnv } from '../../held-env';
import type { SupervisorConfig } from '../../store/session-dir';
import { openForAppend, readFileNoFollow } from '../../sys/read-file';
import { leaveTerminal, mayBecomeSupervisor, nowSupervising } from '../../spawn-front-end';
import { scopePrefix } from './user-scope';

// Starts a supervisor detached in its own session (setsid), stdio to its log, and waits
// for its readiness report on fd 3: `started PID` first thing, then `ready AGENT_PID` or
// `error MESSAGE`. Started in a user systemd scope of its own when one can be made
// (user-scope.ts): an attempt whose supervisor never said `started` is made again plainly.
// Started by `agent spawn`'s native front end, the CLI's own process becomes the
// supervisor instead (spawn-front-end.ts), when no scope is to be made: the same lines,
// told in place.

/** Runs the supervisor's one-file bundle with its code cache, else its modules (supervisor/launch.ts). */
const SUPERVISOR_MAIN = path.join(DIST_DIR, 'supervisor', 'launch.js');
const READY_TIMEOUT_MS = 15_000;


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
  let outcome: Outcome = scope
    ? await attempt([...scope, ...node], config, logPath, env, SCOPE_START_TIMEOUT_MS)
    : mayBecomeSupervisor()
      ? await becomeSupervisor(config, configPath, logPath)
      : { kind: 'not-started' };
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

/** The supervisor's log, opened for its standard output and error. */
function openLog(logPath: string): number {
  try {
    return openForAppend(logPath);
  } catch (err) {
    throw new UserError(`Cannot open the supervisor's log ${logPath}: ${describeFsError(err)}. ${fsErrorAdvice(err)}`, { cause: err });
  }
}

/** The supervisor's entry, as supervisor/launch.ts gives it (loaded by path: it is not part of the CLI's bundle). */
interface SupervisorEntry {
  runHere(configPath: string, tell: (line: string) => void): Promise<void>;
}
const SUPERVISOR_LAUNCH = path.join(DIST_DIR, 'supervisor', 'launch.js');

/** This process becomes the supervisor (spawn-front-end.ts); `not-started` when it cannot. */
async function becomeSupervisor(config: SupervisorConfig, configPath: string, logPath: string): Promise<Outcome> {
  const logFd = openLog(logPath);
  let left: boolean;
  try {
    left = leaveTerminal(logFd, config.workdir);
  } finally {
    fs.closeSync(logFd);
  }
  if (!left) return { kind: 'not-started' };
  const lines: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const entry = (require(SUPERVISOR_LAUNCH) as { supervisorEntry(): SupervisorEntry }).supervisorEntry();
  try {
    await entry.runHere(configPath, (line) => lines.push(line));
  } catch (err) {
    lines.push(`error ${(err as Error).message}`);
  }
  const outcome = outcomeOf(lines, true, process.pid) ?? { kind: 'died' };
  if (outcome.kind === 'ready') nowSupervising();
  return outcome;
}

/** What the start's lines (`started PID`, then `ready AGENT_PID` or `error MESSAGE`) come to; null: not yet. */
function outcomeOf(lines: string[], ended: boolean, supervisorPid: number): Outcome | null {
  const started = lines.some((l) => l.startsWith('started '));
  const line = lines.find((l) => l !== '' && !l.startsWith('started '));
  if (line === undefined) return ended ? (started ? { kind: 'died' } : { kind: 'not-started' }) : null;
  const ready = /^ready (\d+)$/.exec(line);
  if (ready) return { kind: 'ready', supervisorPid, agentPid: Number(ready[1]) };
  if (line.startsWith('error ')) return { kind: 'refused', message: line.slice(6) };
  return { kind: 'died' };
}

/**
 * Starts argv detached, stdio to the log, fd 3 a pipe on which the supervisor says
 * `started PID` first thing, then `ready AGENT_PID` or `error MESSAGE`. `startMs`: how
 * long the supervisor may take to say it started (null: as long as READY_TIMEOUT_MS).
 */
function attempt(argv: string[], config: SupervisorConfig, logPath: string, env: NodeJS.ProcessEnv, startMs: number | null): Promise<Outcome> {
  const logFd = openLog(logPath);
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
    const check = (ended: boolean) => {
      // Whole lines only until the end: the last may still be coming.
      const parts = text.split('\n');
      const outcome = outcomeOf(ended ? parts : parts.slice(0, -1), ended, child.pid!);
      if (outcome) settle(outcome);
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
