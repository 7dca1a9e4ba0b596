import * as net from 'node:net';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { HELLO, SOCKET_NAME, encodeRequest } from '../src/standby/wire';
import { commOf } from './memory';
import { OuterTerm } from './outer';
import type { Sandbox } from './sandbox';
import { BenchError, type ProcResult, type Running, errorText, mapLimit, now, run, sleep, start, waitUntil, withTimeout } from './util';

// The two systems under test, driven from the outside exactly as a user or a script would:
// symposium-mcp through its CLI (pty backend), and tmux through its own commands on a
// private server. The physical baseline (a direct pty) needs no system: see figures.ts.

export type SystemName = 'pty' | 'tmux';
export type Column = SystemName | 'direct';

export interface Size {
  cols: number;
  rows: number;
}

export interface ExitWaiter {
  /** Resolves with the monotonic time at which the agent's exit was known. */
  done: Promise<number>;
}

/**
 * Removes `ids`' sessions, ten at a time (`agent kill` mostly waits: the agent's exit, the
 * supervisor's end); then reports the first failure, if any, after trying them all.
 */
export async function killAll(s: System, ids: string[]): Promise<void> {
  const errs: string[] = [];
  await mapLimit(ids, 10, (id) => s.kill(id).catch((e) => void errs.push(errorText(e))));
  if (errs.length) throw new BenchError(`could not kill ${errs.length} of ${ids.length} sessions: ${errs[0]}`);
}

export interface System {
  readonly name: SystemName;
  /** Runs the spawn command to completion (`env`: more environment for it); throws when it fails. */
  spawn(id: string, command: string[], size: Size, env?: NodeJS.ProcessEnv): Promise<ProcResult>;
  /** The screen as text. */
  capture(id: string): Promise<string>;
  /** Waits (not timed) until the screen shows `text` (a plain string of letters, digits, -). */
  waitText(id: string, text: string, timeoutMs: number): Promise<void>;
  /** Starts listening for the agent's exit; resolves once the listener is in place. */
  exitWaiter(id: string, timeoutMs: number): Promise<ExitWaiter>;
  /** The command a user types to attach. */
  attachArgv(id: string): [string, string[]];
  /** Leaves an attached client the way a user would; kills it if it does not go. */
  detach(outer: OuterTerm, id: string): Promise<void>;
  /** The processes whose memory this system spends on sessions (supervisors, tmux server). */
  serverPids(ids: string[]): Promise<number[]>;
  /** The agents' pids (informational). */
  agentPids(ids: string[]): Promise<number[]>;
  kill(id: string): Promise<void>;
  /** A fresh start between measurements (a new tmux server; nothing for pty). */
  reset(): Promise<void>;
}

const CLI_TIMEOUT = 30_000;

/** Whether `pid` holds a connected Unix socket (the wait client reached its supervisor). */
function hasSocket(pid: number): boolean {
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) return true;
      } catch {
        /* closed meanwhile */
      }
    }
  } catch {
    /* gone */
  }
  return false;
}

function waiterFrom(r: Running, what: string, okCodes: number[]): ExitWaiter {
  return {
    done: r.result.then((res) => {
      if (res.code === null || !okCodes.includes(res.code)) {
        throw new BenchError(`${what} ended with ${res.code ?? res.signal}: ${(res.stderr || res.stdout).trim()}`);
      }
      return res.endedAt;
    }),
  };
}

export class PtySystem implements System {
  readonly name = 'pty' as const;
  private readonly known = new Set<string>();

  constructor(private readonly sb: Sandbox) {}

  cli(args: string[], timeoutMs = CLI_TIMEOUT, check = true, env: NodeJS.ProcessEnv = {}): Promise<ProcResult> {
    return run(this.sb.cli, args, { env: { ...this.sb.env, ...env }, cwd: this.sb.work, timeoutMs, check });
  }

  spawn(id: string, command: string[], size: Size, env: NodeJS.ProcessEnv = {}): Promise<ProcResult> {
    this.known.add(id);
    const args = ['agent', 'spawn', '--uuid', id, '--workdir', this.sb.work, '--backend', 'pty', '--cols', String(size.cols), '--rows', String(size.rows), '--', ...command];
    return this.cli(args, CLI_TIMEOUT, true, env);
  }

  /** The standby waiting for the next spawn (src/standby/), if one is. */
  standbyPids(): number[] {
    return this.sb.processes().filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').some((a) => a.endsWith('standby/main.js'));
      } catch {
        return false;
      }
    });
  }

  async capture(id: string): Promise<string> {
    return (await this.cli(['agent', 'capture', id], 15_000)).stdout;
  }

  async waitText(id: string, text: string, timeoutMs: number): Promise<void> {
    // One `agent wait --text` instead of polling `agent capture` (a Node start-up each).
    const secs = Math.ceil(timeoutMs / 1000);
    const res = await this.cli(['agent', 'wait', id, '--text', text, '--timeout', String(secs)], timeoutMs + 10_000, false);
    if (res.code !== 0) throw new BenchError(`\`agent wait ${id} --text ${text}\` ended with ${res.code ?? res.signal}: ${(res.stderr || res.stdout).trim()}`);
  }

  async exitWaiter(id: string, timeoutMs: number): Promise<ExitWaiter> {
    const secs = Math.ceil(timeoutMs / 1000);
    const r = start(this.sb.cli, ['agent', 'wait', id, '--exit', '--timeout', String(secs)], {
      env: this.sb.env,
      cwd: this.sb.work,
      timeoutMs: timeoutMs + 10_000,
      check: false,
    });
    const waiter = waiterFrom(r, `agent wait ${id} --exit`, [0]);
    // In place once the client holds its connection to the supervisor (plus its request).
    let ended = false;
    waiter.done.catch(() => undefined).finally(() => (ended = true));
    await waitUntil(() => ended || hasSocket(r.child.pid!), 10_000, `\`agent wait ${id} --exit\` to connect to its supervisor`, 2);
    await sleep(30);
    return waiter;
  }

  attachArgv(id: string): [string, string[]] {
    return [this.sb.cli, ['agent', 'attach', id]];
  }

  async detach(outer: OuterTerm): Promise<void> {
    if (outer.exit) return;
    outer.write('\x1c'); // Ctrl-\, the default detach key
    try {
      await withTimeout(outer.exited, 3000, 'the attach client to detach on Ctrl-\\');
    } catch {
      await outer.close();
      throw new BenchError('`agent attach` did not detach on Ctrl-\\ within 3 s (killed)');
    }
  }

  private async list(): Promise<Array<Record<string, unknown>>> {
    const res = await this.cli(['agent', 'list', '--json']);
    try {
      return JSON.parse(res.stdout) as Array<Record<string, unknown>>;
    } catch {
      throw new BenchError(`\`agent list --json\` printed no JSON: ${res.stdout.slice(0, 200)}`);
    }
  }

  private async pidsOf(ids: string[], field: 'supervisorPid' | 'pid'): Promise<number[]> {
    const want = new Set(ids);
    const out: number[] = [];
    for (const rec of await this.list()) {
      if (!want.has(String(rec.id))) continue;
      const pid = rec[field];
      if (typeof pid !== 'number') throw new BenchError(`\`agent list --json\` gives no ${field} for ${String(rec.id)}`);
      out.push(pid);
    }
    if (out.length !== ids.length) throw new BenchError(`\`agent list --json\` lists ${out.length} of the ${ids.length} sessions`);
    return out;
  }

  serverPids(ids: string[]): Promise<number[]> {
    return this.pidsOf(ids, 'supervisorPid');
  }

  agentPids(ids: string[]): Promise<number[]> {
    return this.pidsOf(ids, 'pid');
  }

  async kill(id: string): Promise<void> {
    this.known.delete(id);
    await this.cli(['agent', 'kill', id]);
  }

  async reset(): Promise<void> {
    // Leftovers of a failed measurement: kill what `agent kill` could not.
    for (const id of [...this.known]) {
      await this.cli(['agent', 'kill', id], 15_000, false).catch(() => undefined);
      this.known.delete(id);
    }
  }

  /** Asks the standby, if one waits, to end (src/standby/wire.ts `stop`); resolves once it hung up. */
  async stopStandby(): Promise<void> {
    const socket = path.join(this.sb.runtime, SOCKET_NAME);
    if (!fs.existsSync(socket)) return;
    const dist = fs.realpathSync(path.join(path.dirname(path.dirname(this.sb.cli)), 'dist'));
    await new Promise<void>((resolve) => {
      const c = net.connect(socket, () => c.end(encodeRequest([HELLO, dist, 'stop'])));
      c.on('data', () => undefined);
      c.on('close', () => resolve());
      c.on('error', () => resolve());
    });
    for (let i = 0; i < 40 && this.standbyPids().length > 0; i++) await sleep(25);
  }
}

export class TmuxSystem implements System {
  readonly name = 'tmux' as const;
  private serverPid: number | null = null;

  constructor(private readonly sb: Sandbox) {}

  tmux(args: string[], timeoutMs = 10_000, check = true): Promise<ProcResult> {
    return run('tmux', ['-f', this.sb.tmuxConf, ...args], { env: this.sb.env, cwd: this.sb.work, timeoutMs, check });
  }

  static session(id: string): string {
    return `symposium-agent-${id}`;
  }

  private target(id: string): string {
    return `=${TmuxSystem.session(id)}:`;
  }

  async version(): Promise<string> {
    return (await this.tmux(['-V'])).stdout.trim();
  }

  /** tmux processes of this benchmark still alive (the server and any client). */
  private tmuxProcs(): number[] {
    return this.sb.processes().filter((pid) => commOf(pid)?.startsWith('tmux') ?? false);
  }

  async reset(): Promise<void> {
    await this.shutdown();
    // Start a fresh server once the old one is gone (it stays up: exit-empty off).
    await this.tmux(['start-server']);
  }

  spawn(id: string, command: string[], size: Size): Promise<ProcResult> {
    return this.tmux(['new-session', '-d', '-s', TmuxSystem.session(id), '-x', String(size.cols), '-y', String(size.rows), '-c', this.sb.work, '--', ...command]);
  }

  async capture(id: string): Promise<string> {
    return (await this.tmux(['capture-pane', '-p', '-t', this.target(id)])).stdout;
  }

  async waitText(id: string, text: string, timeoutMs: number): Promise<void> {
    await waitUntil(async () => (await this.capture(id)).includes(text), timeoutMs, `${text} on the screen of ${id}`, 20);
  }

  async exitWaiter(id: string, timeoutMs: number): Promise<ExitWaiter> {
    // pane-died runs once tmux has read the pane to its end and reaped the program
    // (remain-on-exit is on); wait-for remembers a signal sent before anyone waits.
    const channel = `bench-exit-${id}`;
    await this.tmux(['set-hook', '-t', this.target(id), 'pane-died', `wait-for -S ${channel}`]);
    const r = start('tmux', ['-f', this.sb.tmuxConf, 'wait-for', channel], { env: this.sb.env, cwd: this.sb.work, timeoutMs, check: false });
    await waitUntil(() => hasSocket(r.child.pid!), 5000, '`tmux wait-for` to connect', 1);
    return waiterFrom(r, `tmux wait-for ${channel}`, [0]);
  }

  attachArgv(id: string): [string, string[]] {
    return ['tmux', ['attach-session', '-t', `=${TmuxSystem.session(id)}`]];
  }

  async detach(outer: OuterTerm, id: string): Promise<void> {
    if (outer.exit) return;
    await this.tmux(['detach-client', '-s', `=${TmuxSystem.session(id)}`], 10_000, false);
    try {
      await withTimeout(outer.exited, 3000, 'tmux attach to detach');
    } catch {
      await outer.close();
      throw new BenchError('`tmux attach` did not detach within 3 s (killed)');
    }
  }

  async pid(): Promise<number> {
    if (this.serverPid !== null) return this.serverPid;
    const res = await this.tmux(['display-message', '-p', '#{pid}']).catch(async () => {
      // No session yet: any session can answer; make sure one exists.
      throw new BenchError('cannot read the tmux server pid (no session?)');
    });
    const pid = Number(res.stdout.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new BenchError(`tmux gave no server pid: ${res.stdout}`);
    this.serverPid = pid;
    return pid;
  }

  async serverPids(ids: string[]): Promise<number[]> {
    if (ids.length === 0) return [await this.pid()];
    const res = await this.tmux(['display-message', '-p', '-t', this.target(ids[0]!), '#{pid}']);
    const pid = Number(res.stdout.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new BenchError(`tmux gave no server pid: ${res.stdout}`);
    this.serverPid = pid;
    return [pid];
  }

  async agentPids(ids: string[]): Promise<number[]> {
    const out: number[] = [];
    for (const id of ids) {
      const res = await this.tmux(['display-message', '-p', '-t', this.target(id), '#{pane_pid}']);
      out.push(Number(res.stdout.trim()));
    }
    return out;
  }

  async kill(id: string): Promise<void> {
    await this.tmux(['kill-session', '-t', `=${TmuxSystem.session(id)}`], 10_000, false);
  }

  async shutdown(): Promise<void> {
    await this.tmux(['kill-server'], 10_000, false);
    this.serverPid = null;
    await waitUntil(() => this.tmuxProcs().length === 0, 5000, 'the old tmux server to exit', 5);
  }
}

/** Writes one line into a FIFO whose reader is (or is about to be) waiting; never blocks. */
export async function pokeFifo(path: string, timeoutMs: number): Promise<number> {
  const deadline = now() + timeoutMs;
  for (;;) {
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      if (now() > deadline) throw new BenchError(`nobody opened ${path} for reading within ${timeoutMs} ms`);
      await sleep(1);
      continue;
    }
    const t = now();
    try {
      fs.writeSync(fd, 'go\n');
    } finally {
      fs.closeSync(fd);
    }
    return t;
  }
}
