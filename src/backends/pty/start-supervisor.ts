import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST_DIR } from '../../dist-dir';
import { UserError, describeFsError, fsErrorAdvice } from '../../errors';
import { holdBack } from '../../held-env';
import type { SupervisorConfig } from '../../store/session-dir';
import { openForAppend, readFileNoFollow } from '../../sys/read-file';

// Starts a supervisor detached in its own session (setsid), stdio to its log, and waits
// for its one-line readiness report on fd 3: `ready AGENT_PID` or `error MESSAGE`.

const SUPERVISOR_MAIN = path.join(DIST_DIR, 'supervisor', 'main.js');
const READY_TIMEOUT_MS = 15_000;

/** V8 flags that keep an idle supervisor small: one V8 worker thread instead of four, GC on
 *  the main thread (~0.7 MB less private memory each), and a young generation capped at 4 MB
 *  (an idle one stays at 1 MB either way; measured: 1 MB cost a 100 MB flood 5-8 % in GC,
 *  4 MB raised its peak from 129 to 137 MB, 8 MB gained nothing more). */
export const SUPERVISOR_NODE_FLAGS = ['--max-semi-space-size=4', '--v8-pool-size=1', '--single-threaded-gc'];

export function startSupervisor(
  config: SupervisorConfig,
  configPath: string,
  logPath: string,
  env: NodeJS.ProcessEnv,
): Promise<{ supervisorPid: number; agentPid: number }> {
  let logFd: number;
  try {
    logFd = openForAppend(logPath);
  } catch (err) {
    throw new UserError(`Cannot open the supervisor's log ${logPath}: ${describeFsError(err)}. ${fsErrorAdvice(err)}`, { cause: err });
  }
  const child = spawn(process.execPath, [...SUPERVISOR_NODE_FLAGS, SUPERVISOR_MAIN, configPath], {
    detached: true,
    cwd: config.workdir,
    env: holdBack(env), // the agent gets them back (agent-process.ts)
    stdio: ['ignore', logFd, logFd, 'pipe'],
  });
  fs.closeSync(logFd);
  const pipe = child.stdio[3] as NodeJS.ReadableStream | null;
  return new Promise((resolve, reject) => {
    let text = '';
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.unref();
      (pipe as unknown as { destroy?: () => void } | null)?.destroy?.();
      fn();
    };
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      settle(() => reject(new UserError(`The supervisor of ${config.id} did not start within ${READY_TIMEOUT_MS / 1000} s. See ${logPath}`)));
    }, READY_TIMEOUT_MS);
    const finish = () => {
      const line = text.split('\n')[0] ?? '';
      const ready = /^ready (\d+)$/.exec(line);
      if (ready) return settle(() => resolve({ supervisorPid: child.pid!, agentPid: Number(ready[1]) }));
      if (line.startsWith('error ')) return settle(() => reject(new UserError(`Failed to start agent session ${config.id}: ${line.slice(6)}`)));
      settle(() => reject(new UserError(`The supervisor of ${config.id} exited before it was ready. See ${logPath}:\n${tail(logPath)}`)));
    };
    pipe?.setEncoding('utf8');
    pipe?.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) finish();
    });
    pipe?.on('end', finish);
    pipe?.on('error', finish);
    child.on('error', (err) => settle(() => reject(new UserError(`Cannot start the supervisor: ${err.message}`))));
  });
}

function tail(file: string): string {
  try {
    return readFileNoFollow(file).split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}
