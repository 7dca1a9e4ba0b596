import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import { allPids, cmdline, pidsWithEnv, readProcText } from '../../src/sys/proc';

// One private world per test: its own SYMPOSIUM_HOME, runtime directory and tmux server
// (TMUX_TMPDIR). dispose() kills every process that carries a home or runtime directory
// of this sandbox's in its environment (supervisors, agents, the tmux server, the standby
// that waits for the next spawn), so nothing outlives a test even when it fails.

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'bin', 'symposium-mcp');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Sandbox {
  readonly dir: string;
  readonly home: string;
  readonly runtime: string;
  readonly tmuxTmp: string;
  readonly work: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    // Short base path: socket paths must stay under 107 bytes.
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-'));
    this.home = path.join(this.dir, 'home');
    this.runtime = path.join(this.dir, 'run');
    this.tmuxTmp = path.join(this.dir, 'tmux');
    this.work = path.join(this.dir, 'work');
    fs.mkdirSync(this.tmuxTmp, { mode: 0o700 });
    fs.mkdirSync(this.work);
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.TMUX;
    delete env.TMUX_PANE;
    delete env.SYMPOSIUM_AGENT_BACKEND;
    delete env.SYMPOSIUM_DEBUG;
    this.env = {
      ...env,
      SYMPOSIUM_HOME: this.home,
      SYMPOSIUM_RUNTIME_DIR: this.runtime,
      TMUX_TMPDIR: this.tmuxTmp,
      TERM: 'xterm-256color',
      // The attach hint holds the window title for 4 s: tests that compare titles after each
      // attach would wait it out (20 attaches, 80 s). Its own tests turn it back on.
      SYMPOSIUM_ATTACH_HINT: '0',
      ...extraEnv,
    };
  }

  /** Runs the CLI to completion. */
  run(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): RunResult {
    const r: SpawnSyncReturns<string> = spawnSync(CLI, args, {
      env: { ...this.env, ...opts.env },
      cwd: this.work,
      encoding: 'utf8',
      input: opts.input ?? '',
      timeout: opts.timeoutMs ?? 30_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs the CLI without blocking the test's event loop (for concurrency tests). */
  runAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn(CLI, args, {
        env: { ...this.env, ...opts.env },
        cwd: this.work,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  }

  /** tmux against this sandbox's private server. */
  tmux(args: string[]): RunResult {
    const r = spawnSync('tmux', args, { env: this.env, encoding: 'utf8', timeout: 10_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  sessionsFile(): string {
    return path.join(this.home, 'agent-sessions.json');
  }

  readSessions(): Record<string, Record<string, unknown>> {
    return JSON.parse(fs.readFileSync(this.sessionsFile(), 'utf8')) as Record<string, Record<string, unknown>>;
  }

  /**
   * Pids of every live process whose environment names this sandbox's home, but a standby
   * (src/standby/): it waits for the next spawn by design, and is no agent's.
   */
  processes(): number[] {
    return pidsWithEnv('SYMPOSIUM_HOME', this.home).filter((pid) => !isStandby(pid));
  }

  /** Every live process with a home or runtime directory under this sandbox's directory (a test may use a second home). */
  private everything(): number[] {
    const mine = (text: string | null): boolean =>
      text !== null && text.split('\0').some((kv) => (kv.startsWith('SYMPOSIUM_HOME=') || kv.startsWith('SYMPOSIUM_RUNTIME_DIR=')) && kv.slice(kv.indexOf('=') + 1).startsWith(`${this.dir}/`));
    return allPids().filter((pid) => pid !== process.pid && mine(readProcText(`/proc/${pid}/environ`)));
  }

  dispose(): void {
    spawnSync('tmux', ['kill-server'], { env: this.env, timeout: 5000 });
    for (let round = 0; round < 3; round++) {
      const pids = this.everything();
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      spawnSync('sleep', ['0.05']);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A standby of ours, still waiting (once it runs a spawn it is that agent's supervisor). */
export function isStandby(pid: number): boolean {
  return cmdline(pid).includes(path.join('dist', 'standby', 'main.js'));
}

export async function waitFor<T>(fn: () => T | undefined | false | null | Promise<T | undefined | false | null>, timeoutMs = 10_000, stepMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`waitFor timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * A fresh sandbox per call, disposed after each test even when it fails:
 * `const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' })`, then `sandbox()`.
 */
export function sandboxPerTest(extraEnv: NodeJS.ProcessEnv = {}): () => Sandbox {
  let sb: Sandbox | undefined;
  afterEach(() => {
    sb?.dispose();
    sb = undefined;
  });
  return () => {
    sb?.dispose();
    sb = new Sandbox(extraEnv);
    return sb;
  };
}
