import * as fs from 'node:fs';
import * as os from 'node:os';
import * as pty from 'node-pty';
import { restoreHeld } from '../../held-env';
import { pidAlive, procStat } from '../../sys/proc';
import { ProcessTree } from '../../sys/process-tree';
import { type ReadSocket, haltSocket, unhaltSocket } from '../../sys/socket-reads';
import { AgentInput } from './agent-input';
import { masterFd, queuedWrites, readStream, slavePath } from './pty-internals';
import { spawnWithoutFork } from './pty-spawn';

// The agent in its pseudo-terminal. It owns the node-pty child and the two traps of
// node-pty listed in shared/lessons.md: output lost when the pty is paused at exit
// (we never stay paused once the child is gone), and the exit code of a signalled child.

/** Another reader of the pty master, which our backpressure must reach. */
export interface SecondReader {
  pauseReading(): void;
  resumeReading(): void;
}

export interface AgentExit {
  code: number | null;
  signal: string | null;
}

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(os.constants.signals).map(([name, num]) => [num as number, name]),
);

export function signalName(num: number): string {
  return SIGNAL_NAMES.get(num) ?? `SIG${num}`;
}

/**
 * After the exit: the output must be quiet this long before the stream may end… Letting
 * go of the pty as soon as the child was gone lost up to 12 KB in 10 of 30 runs of 200 KB
 * under load: the pty still held output that the master had not been handed yet.
 */
const EXIT_READ_QUIET_MS = 30;
/** How often a busy or dying agent is checked for its end (see watchForEnd). */
const END_POLL_MS = 25;
/** …or a grandchild still writing to the pty gets this long. */
const EXIT_READ_MAX_MS = 3000;
/** Seconds the stream's forced end waits for a second reader of the master to finish. */
const FALLBACK_WAITS = 10;

export class AgentProcess {
  private readonly pty: pty.IPty;
  private paused = false;
  private lastDataAt = 0;
  /** The child is gone (reaped), even if node-pty has not reported the exit yet. */
  private childGone = false;
  private pauseWatch: NodeJS.Timeout | null = null;
  private exited: AgentExit | null = null;
  private exitWaiters: Array<(e: AgentExit) => void> = [];
  /** Input waiting for the agent (null: node-pty's internals are not there, its own queue is used). */
  private readonly input: AgentInput | null;

  constructor(
    command: string[],
    cwd: string,
    cols: number,
    rows: number,
    onData: (data: Buffer) => void,
    /** More environment for the agent (its run marker). */
    extraEnv: Record<string, string> = {},
  ) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env.TERM = 'xterm-256color';
    env.SYMPOSIUM_AGENT = '1';
    Object.assign(env, extraEnv);
    delete env.MSGPACKR_NATIVE_ACCELERATION_DISABLED; // ours, not the agent's
    restoreHeld(env); // held back from the supervisor's own start-up only
    spawnWithoutFork();
    this.pty = pty.spawn(command[0]!, command.slice(1), {
      name: 'xterm-256color',
      cols,
      rows,
      cwd,
      env,
      encoding: null,
      // Off: it would swallow Ctrl-S/Ctrl-Q typed by the user (lessons).
      handleFlowControl: false,
    });
    // encoding: null gives Buffers at run time (the typings say string).
    this.pty.onData((d: string | Buffer) => {
      this.noteData();
      onData(typeof d === 'string' ? Buffer.from(d, 'utf8') : d);
    });
    const fd = masterFd(this.pty);
    this.input = fd === null ? null : new AgentInput(fd);
    this.keepReadingAfterExit();
    this.pty.onExit(({ exitCode, signal }) => {
      // node-pty reports a signalled child as exitCode 0 plus the signal (#461).
      const sig = signal ? signalName(signal) : null;
      this.exited = { code: sig ? null : exitCode, signal: sig };
      this.input?.close();
      this.clearPauseWatch();
      for (const w of this.exitWaiters) w(this.exited);
      this.exitWaiters = [];
    });
  }

  /**
   * Output lost at exit (node-pty #726; measured here: 3 to 12 KB of a 100 MB `cat`, even
   * with nothing else running). When the child closes the pty, a non-blocking read of the
   * master can get EIO while the kernel still holds output in its flip buffer, and
   * node-pty also destroys the stream 200 ms after the exit. So we hold the slave side
   * open ourselves: the master then never sees EIO early. When node-pty wants to destroy
   * the stream (after the exit), we wait for the output to go quiet, close our slave fd,
   * and let the stream end by itself once drained; the real destroy is only a fallback.
   * node-pty 1.1.0 is pinned; without `_socket` or `ptsName` this is a no-op.
   */
  private keepReadingAfterExit(): void {
    const sock = readStream(this.pty);
    const ptsName = slavePath(this.pty);
    if (!sock || ptsName === null) return;
    let holdFd: number | null;
    try {
      holdFd = fs.openSync(ptsName, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    } catch {
      return;
    }
    const realDestroy = sock.destroy.bind(sock);
    let releasing = false;
    /** Once the child is gone: wait for the output to drain, then let the stream end. */
    this.releaseHold = () => {
      if (releasing) return;
      releasing = true;
      this.goneAt = Date.now();
      const started = Date.now();
      const check = () => {
        if (sock.destroyed || holdFd === null) return;
        const quiet = Date.now() - this.lastDataAt;
        if (quiet >= EXIT_READ_QUIET_MS || Date.now() - started >= EXIT_READ_MAX_MS) {
          // Drained: closing the last slave fd makes the next read end the stream.
          fs.closeSync(holdFd);
          holdFd = null;
          // A second reader (relay, pump) still hands over what it read: not before it ends.
          let waits = 0;
          const fallback = () => {
            if (sock.destroyed) return;
            if (this.halted && waits++ < FALLBACK_WAITS) setTimeout(fallback, 1000);
            else realDestroy();
          };
          setTimeout(fallback, 1000);
          return;
        }
        setTimeout(check, 20);
      };
      check();
    };
    sock.destroy = (err?: Error) => {
      // Our slave fd is closed: this is the stream ending by itself (EIO after the drain).
      if (holdFd === null) return realDestroy(err);
      // node-pty's 200 ms timer after the exit: not yet, the kernel may hold output.
      this.releaseHold();
      return sock;
    };
  }

  /** Output arrived (from node-pty or from the native relay reading the master for us). */
  noteData(): void {
    this.lastDataAt = Date.now();
    this.watchForEnd();
  }

  private halted = false;

  /** The pty master's descriptor (node-pty 1.1.0 internals), or null. */
  get masterFd(): number | null {
    return masterFd(this.pty);
  }

  private get socket(): ReadSocket | null {
    const s = readStream(this.pty);
    return s && s._handle && typeof s._handle.readStop === 'function' ? s : null;
  }

  /**
   * Stops reading the master at once, for the native relay to read it: true when nothing
   * read is waiting in our stream (else a chunk would be delivered out of order).
   */
  haltReads(reader: SecondReader | null = null): boolean {
    const s = this.socket;
    if (this.halted || this.paused || this.exited || this.childGone || !s || s.readableLength > 0 || s.destroyed) return false;
    haltSocket(s);
    this.halted = true;
    this.reader = reader;
    return true;
  }

  /** Reads the master while ours are halted, and takes our pause() and resume() (the flood pump). */
  private reader: SecondReader | null = null;

  /** The master is read by someone else (the native relay or the flood pump). */
  get readsHalted(): boolean {
    return this.halted;
  }

  resumeReads(): void {
    if (!this.halted) return;
    this.halted = false;
    this.reader = null;
    const s = this.socket;
    if (this.paused) return; // resume() restarts it
    if (s) unhaltSocket(s);
    else this.pty.resume();
  }

  /** Writes still waiting for the agent (keys must not overtake them). */
  get writesQueued(): number {
    return this.input ? this.input.pendingWrites : (queuedWrites(this.pty) ?? 0);
  }

  /** Bytes written for the agent that it has not taken yet. */
  get inputWaiting(): number {
    return this.input?.waiting ?? 0;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** When the child was first seen gone (ms), for the log. */
  goneAt = 0;

  /** Set by keepReadingAfterExit; a no-op when the hold could not be set up. */
  private releaseHold: () => void = () => {};

  /**
   * Notices the child's end ourselves, every END_POLL_MS while output flows (and during a
   * kill), instead of waiting for node-pty's 200 ms timer: the end of a flood, and
   * `agent kill`, are known sooner. An idle agent has no timer at all.
   */
  private watchForEnd(): void {
    if (this.endWatch || this.exited) return;
    this.endWatch = setTimeout(() => {
      this.endWatch = null;
      if (this.exited) return;
      if (!pidAlive(this.pty.pid)) return this.releaseHold();
      if (this.killing || Date.now() - this.lastDataAt < 1000) this.watchForEnd();
    }, END_POLL_MS);
  }

  private endWatch: NodeJS.Timeout | null = null;
  private killing = false;

  get pid(): number {
    return this.pty.pid;
  }

  /** The agent's terminal (its pty slave, /dev/pts/N), or null when node-pty does not say. */
  get terminalPath(): string | null {
    return slavePath(this.pty);
  }

  get exit(): AgentExit | null {
    return this.exited;
  }

  onExit(cb: (e: AgentExit) => void): void {
    if (this.exited) cb(this.exited);
    else this.exitWaiters.push(cb);
  }

  write(data: string | Buffer): void {
    if (this.exited) return;
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // Straight to the (non-blocking) master, a keystroke without a thread hop; what the
    // agent's terminal does not take now waits in order (agent-input.ts).
    if (this.input) this.input.write(buf);
    else this.pty.write(buf);
  }

  resize(cols: number, rows: number): void {
    if (this.exited) return;
    try {
      this.pty.resize(cols, rows);
    } catch {
      /* the pty closed between exit and here */
    }
  }

  /**
   * Backpressure for our own parser only. While paused, the child's liveness is checked
   * often: once it is gone we resume, so node-pty's 200 ms close timer never drops output.
   */
  pause(): void {
    if (this.paused || this.exited || this.childGone) return;
    if (!pidAlive(this.pty.pid)) {
      // node-pty destroys the pty stream 200 ms after the exit: never pause again.
      this.childGone = true;
      return;
    }
    this.paused = true;
    if (!this.halted) this.pty.pause();
    else this.reader?.pauseReading();
    this.pauseWatch = setInterval(() => {
      if (pidAlive(this.pty.pid)) return;
      this.childGone = true;
      this.resume();
    }, 10);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.clearPauseWatch();
    if (this.halted) {
      this.reader?.resumeReading();
      return;
    }
    const s = this.socket;
    if (s) unhaltSocket(s);
    else this.pty.resume();
  }

  private clearPauseWatch(): void {
    if (this.pauseWatch) clearInterval(this.pauseWatch);
    this.pauseWatch = null;
  }

  /** The terminal's foreground process group (field 8 of /proc/PID/stat), for SIGWINCH. */
  foregroundPgid(): number | null {
    const tpgid = procStat(this.pty.pid)?.tpgid ?? 0;
    return tpgid > 0 ? tpgid : null;
  }

  /** Makes the program redraw without changing the size (the kernel sends no SIGWINCH then). */
  nudgeRedraw(): void {
    const pg = this.foregroundPgid();
    if (pg === null) return;
    try {
      process.kill(-pg, 'SIGWINCH');
    } catch {
      /* gone */
    }
  }

  signalGroup(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pty.pid, sig);
    } catch {
      try {
        process.kill(this.pty.pid, sig);
      } catch {
        /* gone */
      }
    }
  }

  /**
   * SIGHUP, then SIGTERM, then SIGKILL after the grace period, to the agent's process group
   * and to every process of `tree` (its descendants in other groups and sessions, see
   * sys/process-tree.ts); resolves once the agent has exited and the tree is gone.
   */
  async terminate(graceMs: number, tree = new ProcessTree([this.pty.pid])): Promise<AgentExit> {
    const done = new Promise<AgentExit>((resolve) => this.onExit(resolve));
    if (this.exited) return done;
    this.killing = true;
    this.watchForEnd();
    const signal = (sig: NodeJS.Signals) => {
      tree.refresh(); // what they started meanwhile
      this.signalGroup(sig);
      tree.signal(sig);
    };
    const over = () => this.exited !== null && tree.alive().length === 0;
    const step = async (ms: number) => {
      const deadline = Date.now() + ms;
      await Promise.race([done, new Promise((r) => setTimeout(r, ms))]);
      while (!over() && Date.now() < deadline) await new Promise((r) => setTimeout(r, END_POLL_MS));
      return over();
    };
    signal('SIGHUP');
    if (await step(Math.min(200, graceMs / 2))) return done;
    signal('SIGTERM');
    if (await step(graceMs)) return done;
    signal('SIGKILL');
    await step(2000);
    // A child stuck in uninterruptible sleep: report what we know.
    return this.exited ?? { code: null, signal: 'SIGKILL' };
  }
}
