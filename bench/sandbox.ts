import { spawnSync } from 'node:child_process';
import { pidsWithEnv } from '../src/sys/proc';
import { commOf } from './memory';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The benchmark's private world: its own SYMPOSIUM_HOME, socket directory and tmux server
// (TMUX_TMPDIR), all in one temporary directory. Every process the benchmark starts carries
// SYMPOSIUM_BENCH_TAG=<that directory> in its environment (supervisors, agents, the tmux
// server and its panes, attach clients), so a scan of /proc finds everything to clean up,
// whatever state a run was interrupted in. The real ~/.symposium and the user's tmux
// server are never touched.

export const ROOT = path.resolve(__dirname, '..', '..');

export class Sandbox {
  readonly dir: string;
  readonly home: string;
  readonly runtime: string;
  readonly tmuxTmp: string;
  readonly work: string;
  readonly tmuxConf: string;
  readonly env: NodeJS.ProcessEnv;
  /** The CLI the benchmark runs: a frozen copy of the build (see freezeBuild), else the repo's. */
  cli = path.join(ROOT, 'bin', 'symposium-mcp');
  private disposed = false;

  constructor() {
    // A short base path: socket paths must stay under 107 bytes.
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sybench-'));
    this.home = path.join(this.dir, 'home');
    this.runtime = path.join(this.dir, 'run');
    this.tmuxTmp = path.join(this.dir, 'tmux');
    this.work = path.join(this.dir, 'work');
    this.tmuxConf = path.join(this.dir, 'tmux.conf');
    fs.mkdirSync(this.tmuxTmp, { mode: 0o700 });
    fs.mkdirSync(this.work);
    // Status bar off (a pty-backend attach shows no bar either), scrollback as deep as the
    // pty backend's default (10 000 lines; tmux's default is 2 000), dead panes kept so their
    // exit and final screen can be read, and a server that survives having no session.
    fs.writeFileSync(
      this.tmuxConf,
      ['set -g status off', 'set -g history-limit 10000', 'set -g remain-on-exit on', 'set -g exit-empty off', ''].join('\n'),
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['TMUX', 'TMUX_PANE', 'SYMPOSIUM_AGENT_BACKEND', 'SYMPOSIUM_DEBUG', 'SYMPOSIUM_BENCH_TAG']) delete env[k];
    this.env = {
      ...env,
      SYMPOSIUM_HOME: this.home,
      SYMPOSIUM_RUNTIME_DIR: this.runtime,
      TMUX_TMPDIR: this.tmuxTmp,
      SYMPOSIUM_BENCH_TAG: this.dir,
      TERM: 'xterm-256color',
    };
  }

  /**
   * Copies the compiled program (dist/, bin/) into the sandbox and runs it from there, so a
   * rebuild of the work tree during a long run cannot mix two versions of the code in one
   * measurement. node_modules and package.json are linked, not copied.
   */
  freezeBuild(): void {
    const app = path.join(this.dir, 'app');
    const dist = path.join(ROOT, 'dist');
    if (!fs.existsSync(path.join(dist, 'cli', 'main.js'))) return;
    fs.mkdirSync(app);
    fs.cpSync(dist, path.join(app, 'dist'), { recursive: true, filter: (src) => !src.startsWith(path.join(dist, 'bench')) });
    fs.cpSync(path.join(ROOT, 'bin'), path.join(app, 'bin'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
    fs.symlinkSync(path.join(ROOT, 'package.json'), path.join(app, 'package.json'));
    this.cli = path.join(app, 'bin', 'symposium-mcp');
  }

  /** Pids of live processes (not this one) whose environment contains `NAME=value`. */
  processesWith(name: string, value: string): number[] {
    return pidsWithEnv(name, value);
  }

  /** Every process this benchmark started (directly or not) that is still alive. */
  processes(): number[] {
    return this.processesWith('SYMPOSIUM_BENCH_TAG', this.dir);
  }

  /** Pids of the pty backend's processes (supervisors, agents, CLI) still alive. */
  ptyProcesses(): number[] {
    return this.processesWith('SYMPOSIUM_HOME', this.home).filter((pid) => !isTmux(pid));
  }

  /** SIGKILLs the given pids (repeatedly, until none is left or 1 s passed). */
  static killPids(list: () => number[]): number {
    let killed = 0;
    for (let round = 0; round < 20; round++) {
      const pids = list();
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {
          /* already gone */
        }
      }
      spawnSync('sleep', ['0.05']);
    }
    return killed;
  }

  /** Synchronous, so it also works from a signal handler or at exit. Idempotent. */
  dispose(keepDir = false): number {
    if (this.disposed) return 0;
    this.disposed = true;
    spawnSync('tmux', ['kill-server'], { env: this.env, timeout: 5000, stdio: 'ignore' });
    const killed = Sandbox.killPids(() => this.processes());
    if (!keepDir) fs.rmSync(this.dir, { recursive: true, force: true });
    return killed;
  }
}

function isTmux(pid: number): boolean {
  return commOf(pid)?.startsWith('tmux') ?? false;
}
