import { restoreHeld } from '../../held-env';
import type { SessionHooks } from '../../store/session-dir';
import { log } from '../lifecycle/log';

// The user's own commands on what the agent does (`spawn --on-idle CMD`, `--on-blocked`,
// `--on-exit`, or ~/.symposium/config.json for every session): each runs through /bin/sh in
// the agent's directory, with what happened in its environment, its output in the session's
// log. It never holds the supervisor: started and left to run, killed (its whole process
// group) past HOOK_RUN_TIMEOUT_MS or HOOK_EXIT_WAIT_MS after the agent's end, and not started at all while MAX_RUNNING_HOOKS of this
// session still run (a hook that hangs on every state change must not pile up).

export type HookEvent = 'idle' | 'blocked' | 'exit';

/** A hook still running after this long is killed (it is a notification, not a job). */
export const HOOK_RUN_TIMEOUT_MS = 30_000;
/** Hooks of one session running at once, at most. */
export const MAX_RUNNING_HOOKS = 4;
/**
 * At the agent's end, hooks still running get this long before they are killed: the
 * supervisor's exit waits for them (an on-exit notify-send takes ~50 ms), and `agent kill`
 * gives a supervisor 3 s to exit before it kills it.
 */
export const HOOK_EXIT_WAIT_MS = 1500;

/** What a hook is told, as SYMPOSIUM_* variables. */
export interface HookFacts {
  id: string;
  state: string;
  reason: string;
  exitCode: number | null;
  exitSignal: string | null;
  notification: string | null;
}

export class UserHooks {
  private readonly running = new Map<Promise<void>, () => void>();

  constructor(
    private readonly hooks: SessionHooks,
    private readonly workdir: string,
  ) {}

  fire(event: HookEvent, facts: HookFacts): void {
    const command = event === 'idle' ? this.hooks.onIdle : event === 'blocked' ? this.hooks.onBlocked : this.hooks.onExit;
    if (!command) return;
    if (this.running.size >= MAX_RUNNING_HOOKS) {
      log(`hook on-${event} not run: ${MAX_RUNNING_HOOKS} hooks of this session still run`);
      return;
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.MSGPACKR_NATIVE_ACCELERATION_DISABLED;
    restoreHeld(env);
    Object.assign(env, {
      SYMPOSIUM_ID: facts.id,
      SYMPOSIUM_EVENT: event,
      SYMPOSIUM_STATE: facts.state,
      SYMPOSIUM_REASON: facts.reason,
      SYMPOSIUM_EXIT_CODE: facts.exitCode === null ? '' : String(facts.exitCode),
      SYMPOSIUM_EXIT_SIGNAL: facts.exitSignal ?? '',
      SYMPOSIUM_NOTIFICATION: facts.notification ?? '',
    });
    const started = Date.now();
    let child;
    try {
      // Output straight into the log (fd 2): no pipe of ours to drain, and what a hook prints
      // after the supervisor exits still lands there.
      // Loaded on first use: most sessions have no hook, and node:child_process is ~80 KB
      // of heap in every supervisor (measured, once net and tty are loaded).
      const { spawn } = require('node:child_process') as typeof import('node:child_process');
      child = spawn('/bin/sh', ['-c', command], { cwd: this.workdir, env, stdio: ['ignore', 2, 2], detached: true });
    } catch (err) {
      log(`hook on-${event} could not start: ${(err as Error).message}`);
      return;
    }
    log(`hook on-${event} started (pid ${child.pid ?? '?'}): ${command}`);
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        log(`hook on-${event} (pid ${child.pid}) still ran after ${HOOK_RUN_TIMEOUT_MS / 1000} s: killed`);
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, HOOK_RUN_TIMEOUT_MS);
      child.on('error', (err) => {
        clearTimeout(timer);
        log(`hook on-${event} failed: ${err.message}`);
        resolve();
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
        log(`hook on-${event} (pid ${child.pid}) ${how} after ${Date.now() - started} ms`);
        resolve();
      });
    });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    this.running.set(done, kill);
    void done.then(() => this.running.delete(done));
  }

  /** Resolves once every hook started has ended; those still running after `ms` are killed. */
  settled(ms = HOOK_EXIT_WAIT_MS): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    const all = Promise.all([...this.running.keys()]).then(() => undefined);
    let timer: NodeJS.Timeout | null = null;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const [, kill] of this.running) kill();
        if (this.running.size > 0) log(`${this.running.size} hook(s) still ran at the end: killed`);
        resolve();
      }, ms);
    });
    return Promise.race([all, late]).then(() => {
      if (timer) clearTimeout(timer);
    });
  }
}
