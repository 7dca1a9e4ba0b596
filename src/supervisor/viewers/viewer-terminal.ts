import * as fs from 'node:fs';
import * as tty from 'node:tty';
import { type ReadSocket, haltSocket, unhaltSocket } from '../../sys/socket-reads';

// A viewer's own terminal, handed over by its attach client as tmux's client hands its
// tty to the server: the supervisor writes the screen and the output straight into it and
// reads the keys from it, so a keystroke and its echo cross one process, not two. The
// client keeps the terminal's modes (it made it raw) and gets it back untouched once
// released: after a release nothing more is read from it or written to it.

export class ViewerTerminal {
  private readonly stream: tty.ReadStream;
  private corked = false;
  private released = false;
  private closed = false;
  private closedWaiters: Array<() => void> = [];
  onInput: (data: Buffer) => void = () => {};
  /** The terminal went away (hung up, closed): the viewer is gone. */
  onGone: () => void = () => {};
  onDrain: () => void = () => {};
  /** A key read earlier is still being decided on (a lone detach key waiting for a second press). */
  keysWaiting: () => boolean = () => false;
  /**
   * The supervisor writes into this terminal on its own for now (the attach hint is being
   * taken back from its title, at a boundary of the agent's stream): the native relay,
   * which writes the agent's output straight to it, must wait.
   */
  reserved = false;

  /** Drives a terminal the client handed over, opened by us (see peer-terminal.ts). */
  static adopt(fd: number, detachKey: number): ViewerTerminal {
    return new ViewerTerminal(fd, detachKey);
  }

  private constructor(
    private readonly fd: number,
    /** The byte that detaches (handover.ts filters it; the native relay leaves it to us). */
    readonly detachKey: number,
  ) {
    this.stream = new tty.ReadStream(fd);
    this.stream.on('data', (d: Buffer) => {
      if (!this.released) this.onInput(d);
    });
    const gone = () => {
      if (!this.released) this.onGone();
    };
    this.stream.on('end', gone);
    this.stream.on('error', gone); // EIO: the terminal hung up
    this.stream.on('drain', () => {
      if (!this.released) this.onDrain();
    });
    this.stream.on('close', () => {
      this.closed = true;
      // libuv drives a reopened copy of the terminal; the descriptor we opened is ours to close.
      try {
        fs.closeSync(this.fd);
      } catch {
        /* closed */
      }
      for (const w of this.closedWaiters) w();
      this.closedWaiters = [];
    });
  }

  /**
   * The first write of an event-loop turn goes out at once (a keystroke's echo is usually
   * alone); the rest of that turn's output is corked into one write (libuv reads a
   * flooding pty up to 32 times per turn), uncorked in the same turn's check phase.
   */
  write(data: Buffer | string): void {
    if (this.released) return;
    if (!this.busyTurn) {
      this.busyTurn = true;
      setImmediate(this.endTurn);
      if (this.stream.writableLength === 0) {
        // Straight to the terminal: our descriptor shares its open file with the stream's
        // (libuv reopened the device onto it), and nothing is queued ahead. What the
        // terminal does not take now goes through the stream, still in order.
        const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
        let written = 0;
        try {
          written = fs.writeSync(this.fd, buf);
        } catch {
          written = 0; // EAGAIN: the terminal is full (one try, never a loop)
        }
        if (written < buf.length) this.stream.write(buf.subarray(written));
        return;
      }
    } else if (!this.corked) {
      this.corked = true;
      this.stream.cork();
    }
    this.stream.write(data);
  }

  private busyTurn = false;
  private readonly endTurn = () => {
    this.busyTurn = false;
    if (!this.corked) return;
    this.corked = false;
    this.stream.uncork();
  };

  get isReleased(): boolean {
    return this.released;
  }

  /** Our descriptor of the terminal (for the native relay, which reads and writes it meanwhile). */
  get descriptor(): number {
    return this.fd;
  }

  /** Stops reading keys at once (the native relay reads them); false when it cannot. */
  haltReads(): boolean {
    if (this.released || this.stream.destroyed || this.stream.readableLength > 0) return false;
    haltSocket(this.stream as unknown as ReadSocket);
    this.halted = true;
    return true;
  }

  resumeReads(): void {
    this.halted = false;
    if (!this.keysHeld && !this.released && !this.stream.destroyed) unhaltSocket(this.stream as unknown as ReadSocket);
  }

  private halted = false;
  private keysHeld = false;

  /** Stops taking keys while the agent does not read its input (what is typed waits in the terminal). */
  holdKeys(hold: boolean): void {
    if (hold === this.keysHeld) return;
    this.keysHeld = hold;
    if (this.released || this.stream.destroyed || this.halted) return;
    if (hold) this.stream.pause();
    else unhaltSocket(this.stream as unknown as ReadSocket);
  }

  /** Bytes accepted and not yet written to the terminal. */
  get backlog(): number {
    return this.stream.writableLength;
  }

  /**
   * Lets go of the terminal: reads stop at once; what is already queued is written for
   * up to `flushMs` (the end of the agent's output before its exit line), then dropped.
   * Resolves once the descriptor is closed.
   */
  release(flushMs = 0): Promise<void> {
    if (!this.released) {
      this.released = true;
      this.stream.pause();
      if (this.corked) {
        this.corked = false;
        this.stream.uncork();
      }
      // Polled, not 'drain': that event only follows a write the stream refused.
      const deadline = Date.now() + flushMs;
      const flushThenDestroy = () => {
        if (this.stream.writableLength === 0 || this.stream.destroyed || Date.now() >= deadline) this.stream.destroy();
        else setTimeout(flushThenDestroy, 10);
      };
      flushThenDestroy();
    }
    if (this.closed) return Promise.resolve();
    return new Promise((r) => this.closedWaiters.push(r));
  }
}
