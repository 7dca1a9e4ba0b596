import type * as net from 'node:net';
import { FrameError, FrameReader, MAX_FRAME_BYTES, NO_FRAME, encodeFrame } from '../../protocol/framing';
import {
  type ClientMessage,
  type ErrorCode,
  MessageError,
  type ServerMessage,
  UnsupportedRequest,
  decodeClientMessage,
} from '../../protocol/messages';
import type { ViewerTerminal } from './viewer-terminal';

// One client connection as the supervisor sees it: framing, decoding, and the error
// policy of protocol.md (a malformed or oversized frame closes this connection with an
// error frame; unknown message types are ignored). Nothing here can throw into the
// supervisor: every failure ends only this connection.

/** Past this many unsent bytes a viewer is behind: it stops getting output until it drains. */
export const BACKLOG_LIMIT = 1024 * 1024;
/**
 * Past this many unsent bytes we stop reading the peer until it reads: a client that
 * sends requests but never reads the answers must not make us buffer without bound.
 */
const READ_PAUSE_BACKLOG = 4 * BACKLOG_LIMIT;
/** Frames before the hello is accepted are small; junk must not make us buffer 16 MiB. */
export const HANDSHAKE_MAX_FRAME = 64 * 1024;

let nextId = 1;
let typedCount = 0;
/** A viewer's CPR answer later than this is no longer expected. */
const CPR_ANSWER_MS = 5000;

export class Connection {
  readonly id = nextId++;
  state: 'handshake' | 'attach' | 'control' | 'closed' = 'handshake';
  readOnly = false;
  /** Receives live output (its snapshot has been sent). */
  live = false;
  /** Fell behind: dropped from the stream until it drains, then resynced by snapshot. */
  stale = false;
  /** When it was last resynced, and the timer of a resync put off during a flood. */
  resyncedAt = 0;
  resyncTimer: NodeJS.Timeout | null = null;
  /** When this viewer last typed a real key (ms), and its rank among all typing (ties in a ms happen). */
  typedAt = 0;
  typedOrder = 0;
  attachedAt = 0;
  /** Cursor position queries sent to this viewer and not yet answered (see input-kind.ts). */
  private cprQueries = 0;
  private cprAskedAt = 0;
  cols: number | null = null;
  rows: number | null = null;
  /** The viewer's own terminal when it was handed over: output goes there, not in frames. */
  terminal: ViewerTerminal | null = null;
  private readonly reader = new FrameReader(HANDSHAKE_MAX_FRAME);
  private readPaused = false;

  constructor(
    readonly socket: net.Socket,
    private readonly onMessage: (c: Connection, m: ClientMessage) => void,
    private readonly onClose: (c: Connection) => void,
  ) {
    socket.on('data', (chunk) => this.received(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('drain', () => {
      if (!this.readPaused || this.closed) return;
      this.readPaused = false;
      socket.resume();
    });
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get isViewer(): boolean {
    return this.state === 'attach';
  }

  get canWrite(): boolean {
    return this.state === 'attach' && !this.readOnly;
  }

  markTyped(): void {
    this.typedAt = Date.now();
    this.typedOrder = ++typedCount;
  }

  /** The stream sent to this viewer held `n` cursor position queries. */
  cprAsked(n: number): void {
    this.cprQueries = Math.min(16, this.cprPending + n);
    this.cprAskedAt = Date.now();
  }

  get cprPending(): number {
    return Date.now() - this.cprAskedAt > CPR_ANSWER_MS ? 0 : this.cprQueries;
  }

  cprAnswered(n: number): void {
    this.cprQueries = Math.max(0, this.cprQueries - n);
  }

  private received(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.reader.append(chunk);
    // One frame at a time: the hello raises the frame limit for the frames after it.
    for (;;) {
      if (this.closed) return;
      let v: unknown;
      try {
        v = this.reader.read();
      } catch (err) {
        this.fail(err instanceof FrameError ? err.code : 'malformed', (err as Error).message);
        return;
      }
      if (v === NO_FRAME) break;
      let msg: ClientMessage | null;
      try {
        msg = decodeClientMessage(v);
      } catch (err) {
        if (err instanceof UnsupportedRequest) {
          if (this.state === 'handshake') return this.fail('hello-required', 'the first message must be hello, got request');
          this.send({ t: 'response', id: err.id, ok: false, result: null, error: { code: 'unsupported', message: err.message } });
          continue;
        }
        this.fail('bad-message', err instanceof MessageError ? err.message : String(err));
        return;
      }
      if (msg === null) continue; // unknown type: ignored for forward compatibility
      try {
        this.onMessage(this, msg);
      } catch (err) {
        this.fail('internal', `supervisor error: ${(err as Error).message}`);
        return;
      }
      if (this.state !== 'handshake') this.reader.maxFrame = MAX_FRAME_BYTES;
    }
    if (!this.closed && !this.readPaused && this.socket.writableLength > READ_PAUSE_BACKLOG) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  send(msg: ServerMessage): void {
    this.sendFrame(encodeFrame(msg));
  }

  sendFrame(frame: Buffer): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.socket.write(frame);
  }

  /**
   * Output frames of one event-loop turn leave in one write: libuv reads a flooding pty
   * up to 32 times per turn, and a syscall per 4 KB chunk would cost more than the chunk.
   * Uncorked in the same turn's check phase, so a keystroke's echo waits for nothing.
   */
  sendOutputFrame(frame: Buffer): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame);
  }

  private corked = false;

  /** What this viewer has not taken yet: its terminal's when handed over, else its socket's. */
  get backlog(): number {
    return this.terminal ? this.terminal.backlog : this.socket.writableLength;
  }

  /** Everything held for this connection: its socket's and its terminal's unsent bytes, and a frame not yet whole. */
  get bufferedBytes(): number {
    return this.socket.writableLength + (this.terminal?.backlog ?? 0) + this.reader.pendingBytes;
  }

  /** Lets go of a handed-over terminal (the client restores it once told, or once we are gone). */
  releaseTerminal(flushMs = 0): Promise<void> {
    const t = this.terminal;
    if (!t) return Promise.resolve();
    // The native relay, if it drives this terminal, lets go first (fast-relay.ts).
    const first = this.beforeRelease();
    return first ? first.then(() => t.release(flushMs)) : t.release(flushMs);
  }

  /** Set by the supervisor for a handed-over terminal: stops what else uses it (null: nothing). */
  beforeRelease: () => Promise<void> | null = () => null;

  /** Sends an error frame and closes the connection once it is flushed. */
  fail(code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    void this.releaseTerminal(); // before the client reads the error and restores its terminal
    this.send({ t: 'error', code, message });
    this.end();
  }

  end(): void {
    if (this.state === 'closed') return;
    this.socket.end();
    // A peer that never reads must not keep us: force the close after a while.
    const force = setTimeout(() => this.socket.destroy(), 2000);
    force.unref();
    // Thousands of dropped connections must not each stay referenced by a timer.
    this.socket.once('close', () => clearTimeout(force));
    this.close();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.live = false;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    void this.releaseTerminal();
    this.reader.clear();
    this.onClose(this);
  }
}
