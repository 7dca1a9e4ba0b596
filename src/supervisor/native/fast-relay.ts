import type { ChildProcess } from 'node:child_process';
import type * as net from 'node:net';

// The native key relay (native/relay.c, built into dist/symposium-relay): while it runs, a
// handed-over terminal's keys and the agent's output cross a small C process instead of
// this one, so a keystroke's echo costs what it costs under tmux. The same binary without
// a terminal is the flood pump, which only reads the agent's output for us. This module is
// the mechanism: start it on its descriptors, read its frames, stop it. When each runs is
// the supervisor's policy (relay-policy.ts, flood-pump.ts). Frames from the relay: type
// byte, 4-byte big-endian length, payload (see relay.c).

/** The relay's binary (the helper taken at start); null when there is none or it is turned off (SYMPOSIUM_NATIVE_RELAY=0). */
export function relayBinary(helper: string | null): string | null {
  return process.env.SYMPOSIUM_NATIVE_RELAY === '0' ? null : helper;
}

/** Why the relay ended (relay.c's 'x' frame). */
export type RelayEnd = 'stopped' | 'full' | 'hangup' | 'agent-eof' | 'internal' | 'crashed';

const ENDS: Record<string, RelayEnd> = { s: 'stopped', f: 'full', h: 'hangup', e: 'agent-eof', i: 'internal' };

export interface RelayHandlers {
  /** Agent output, already written whole to the terminal. */
  output(data: Buffer): void;
  /** Keys already written to the agent. */
  typed(data: Buffer): void;
  /** Keys the relay left to us: they go the slow way (detach key, escape sequences). */
  keys(data: Buffer): void;
  /** Output the terminal had not taken yet when the relay ended: ours to write, in order. */
  rest(data: Buffer): void;
  /** The relay is gone; every frame it sent has been handled before this. */
  ended(why: RelayEnd): void;
}

export class FastRelay {
  private readonly child: ChildProcess;
  private readonly ctl: net.Socket;
  private pending: Buffer = Buffer.alloc(0);
  private why: RelayEnd | null = null;
  private done = false;
  private readonly doneWaiters: Array<() => void> = [];
  private exited = false;
  private ctlClosed = false;
  private stopping: Promise<void> | null = null;
  /** How the process ended, for the log: `code 0`, `signal SIGKILL`. */
  exitStatus = '';
  /** An error of the control socket, for the log (frames after it are lost). */
  ctlError = '';

  /**
   * `terminalFd` null: the flood pump (relay.c), which only reads the agent's output for us;
   * it sends no keys and writes to no terminal.
   */
  constructor(binary: string, terminalFd: number | null, masterFd: number, detachKey: number | null, private readonly h: RelayHandlers) {
    // Loaded on first use: a supervisor nobody attaches to never needs it (memory counts per agent).
    const { spawn } = require('node:child_process') as typeof import('node:child_process');
    const args = terminalFd === null ? [String(detachKey ?? -1), 'pump'] : [String(detachKey ?? -1)];
    this.child = spawn(binary, args, {
      stdio: ['ignore', 'ignore', 'inherit', 'pipe', terminalFd ?? 'ignore', masterFd],
    });
    const ctl = this.child.stdio[3] as net.Socket | null;
    if (!ctl) throw new Error('the relay has no control socket');
    this.ctl = ctl;
    ctl.on('data', (d: Buffer) => this.received(d));
    ctl.on('error', (e: NodeJS.ErrnoException) => {
      this.ctlError = e.code ?? e.message;
    });
    ctl.on('close', () => {
      this.ctlClosed = true;
      this.maybeDone();
    });
    this.child.on('error', () => {
      this.exited = true;
      this.maybeDone();
    });
    this.child.on('exit', (code, signal) => {
      this.exitStatus = signal ? `signal ${signal}` : `code ${code}`;
      this.exited = true;
      this.maybeDone();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Keys may go straight to the agent again (nothing of ours is pending before them). */
  allowDirectKeys(): void {
    if (!this.done && this.why === null) this.ctl.write('d');
  }

  /**
   * Backpressure: while paused we read no frames, the relay's queue fills (relay.c's
   * OUT_LIMIT), and it stops reading the agent, which then waits.
   */
  pauseReading(): void {
    this.ctl.pause();
  }

  resumeReading(): void {
    this.ctl.resume();
  }

  /** Stops the relay; resolves once it is gone and all it sent has been handled. */
  stop(): Promise<void> {
    if (this.done) return Promise.resolve();
    // Its last frames must be read for it to end (at most its queue: bounded).
    this.ctl.resume();
    // Asked once (a flood asks on every frame): a second 's' could reach a relay that has
    // gone, and its write error would make Node drop the frames not yet read.
    if (!this.stopping) {
      if (this.why === null && !this.ctl.destroyed) this.ctl.write('s');
      // A relay that does not answer (it never should) is killed: its frames so far are kept.
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      this.stopping = new Promise((resolve) => this.doneWaiters.push(() => (clearTimeout(kill), resolve())));
    }
    return this.stopping;
  }

  private received(d: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    let at = 0;
    while (this.pending.length - at >= 5) {
      const len = this.pending.readUInt32BE(at + 1);
      if (this.pending.length - at - 5 < len) break;
      const type = String.fromCharCode(this.pending[at]!);
      const data = this.pending.subarray(at + 5, at + 5 + len);
      at += 5 + len;
      this.frame(type, data);
    }
    this.pending = at === this.pending.length ? Buffer.alloc(0) : Buffer.from(this.pending.subarray(at));
  }

  private frame(type: string, data: Buffer): void {
    if (this.why !== null) return; // nothing follows 'x'
    switch (type) {
      case 'o':
        return this.h.output(data);
      case 't':
        return this.h.typed(data);
      case 'k':
        return this.h.keys(data);
      case 'r':
        return this.h.rest(data);
      case 'x':
        this.why = ENDS[String.fromCharCode(data[0] ?? 0x69)] ?? 'internal';
        // We write nothing more; the relay exits when it reads the end (relay.c).
        this.ctl.end();
        return;
    }
  }

  private maybeDone(): void {
    // Done once the process is gone and its socket has delivered everything.
    if (this.done || !this.exited || !this.ctlClosed) return;
    this.done = true;
    this.h.ended(this.why ?? 'crashed');
    for (const w of this.doneWaiters.splice(0)) w();
  }
}
