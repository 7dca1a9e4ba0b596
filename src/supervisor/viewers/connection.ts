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
import { Flood } from '../flood';
import type { Intake, IntakeMember } from './intake';
import type { ViewerTerminal } from './viewer-terminal';
import type { FrameSink, ViewerOutput } from './viewer-output';

// One client connection as the supervisor sees it: framing, decoding, and the error
// policy of protocol.md (a malformed or oversized frame closes this connection with an
// error frame; unknown message types are ignored). Nothing here can throw into the
// supervisor: every failure ends only this connection.

/** Frames before the hello is accepted are small; junk must not make us buffer 16 MiB. */
export const HANDSHAKE_MAX_FRAME = 64 * 1024;

let nextId = 1;
let typedCount = 0;
/** A viewer's CPR answer later than this is no longer expected. */
const CPR_ANSWER_MS = 5000;

export class Connection implements FrameSink, IntakeMember {
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
  /** The number of the last output chunk this viewer was given (its snapshot's, or a live one). */
  sentSeq = 0;
  /** Cursor position queries sent to this viewer and not yet answered (see input-kind.ts). */
  private cprQueries = 0;
  private cprAskedAt = 0;
  cols: number | null = null;
  rows: number | null = null;
  /** Where the screen goes, for a viewer (attach mode); null for a control connection. */
  out: ViewerOutput | null = null;
  private readonly reader: FrameReader;
  private readPaused = false;

  constructor(
    readonly socket: net.Socket,
    private readonly intake: Intake,
    private readonly onMessage: (c: Connection, m: ClientMessage) => void,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.reader = new FrameReader(HANDSHAKE_MAX_FRAME, intake);
    socket.on('data', (chunk) => this.received(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('drain', () => {
      if (this.readPaused) this.pump();
    });
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Connected, and no hello received (nor one being checked). */
  get awaitingHello(): boolean {
    return this.state === 'handshake' && this.holds === 0;
  }

  /** Its replay was sent: it counts as an attached viewer (events). */
  attachedOnce = false;

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
    this.pump();
  }

  /**
   * Handles the frames received so far, one at a time (the hello raises the frame limit
   * for the frames after it), while nothing holds them back; otherwise stops reading the
   * socket, so what the client sends meanwhile waits in the kernel, not in our memory.
   */
  private pump(): void {
    // A slot or a hold released while frames are being handled: the loop below goes on by itself.
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.handleFrames();
    } finally {
      this.pumping = false;
    }
  }

  private pumping = false;

  private handleFrames(): void {
    for (;;) {
      if (this.closed) return;
      if (!this.mayProcess()) return this.pauseReading();
      let msg = this.parked;
      this.parked = null;
      if (msg === null) {
        if (this.state !== 'handshake') this.reader.maxFrame = MAX_FRAME_BYTES;
        let v: unknown;
        try {
          v = this.reader.read();
        } catch (err) {
          this.fail(err instanceof FrameError ? err.code : 'malformed', (err as Error).message);
          return;
        }
        if (v === NO_FRAME) break;
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
      }
      if (this.takesSlot(msg)) {
        // Too many requests are being answered in this supervisor: this one waits its turn.
        if (!this.intake.mayStart(this)) {
          this.parked = msg;
          return this.pauseReading();
        }
        this.inFlight++;
        this.intake.started();
        this.slot = this.slotRelease();
      }
      try {
        this.onMessage(this, msg);
      } catch (err) {
        this.fail('internal', `supervisor error: ${(err as Error).message}`);
        return;
      } finally {
        // Not taken by a handler (it failed before): the slot is free again.
        const left = this.slot;
        this.slot = null;
        left?.();
      }
    }
    if (this.readPaused && this.mayProcess()) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  private pauseReading(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    this.socket.pause();
  }

  /** A request decoded while no slot was free, handled first once one is. */
  private parked: ClientMessage | null = null;

  /**
   * Requests count while they are answered; waits and event long polls are bounded apart
   * (waits.ts, session-state.ts) and answer little while they wait.
   */
  private takesSlot(m: ClientMessage): boolean {
    return m.t === 'request' && m.call.op !== 'wait' && !(m.call.op === 'events' && m.call.args.waitMs > 0) && this.state !== 'handshake';
  }

  /** The slot of the request being handled, until its handler takes it. */
  private slot: (() => void) | null = null;

  private slotRelease(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.intake.ended();
      this.pump();
    };
  }

  /**
   * For the handler of the request being handled now: the function to call once its
   * response is sent or dropped (the next frames may then go). A no-op for requests that
   * take no slot (waits).
   */
  takeSlot(): () => void {
    const s = this.slot ?? (() => {});
    this.slot = null;
    return s;
  }

  /**
   * Whether the next frame may be handled now. Not while the peer leaves more than
   * Flood.ReadPauseBacklog unread, nor while the supervisor holds Flood.TotalBacklog for
   * all peers and this one owes it some (its 'drain' wakes it), nor while this connection
   * has Flood.RequestsInFlight requests being answered: replies count before they are
   * computed, so a client that asks without reading gets nothing more computed.
   */
  private mayProcess(): boolean {
    if (this.holds > 0 || this.waitingForAgent || this.inFlight >= Flood.RequestsInFlight) return false;
    const s = this.socket;
    return s.writableLength <= Flood.ReadPauseBacklog && !(s.writableNeedDrain && this.intake.overBacklog);
  }

  /** Requests of this connection being answered (waits excluded). */
  private inFlight = 0;

  resumeWork(): void {
    this.pump();
  }

  /** The agent takes no more input for now: keys and requests of this connection wait (see agentInputDrained). */
  private waitingForAgent = false;

  waitForAgentInput(): void {
    this.waitingForAgent = true;
    this.terminal?.holdKeys(true);
  }

  agentInputDrained(): void {
    if (!this.waitingForAgent) return;
    this.waitingForAgent = false;
    this.terminal?.holdKeys(false);
    this.pump();
  }

  /** Things that hold the next frames back (a hello being checked). */
  private holds = 0;

  /** Holds the frames after this one back until the returned function is called (once). */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.pump();
    };
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

  /** The viewer's own terminal, when it was handed over (the native relay drives such terminals). */
  get terminal(): ViewerTerminal | null {
    return this.out?.terminal ?? null;
  }

  get socketBacklog(): number {
    return this.socket.writableLength;
  }

  /** What this viewer has not taken yet (its socket's, or its terminal's). */
  get backlog(): number {
    return this.out ? this.out.backlog : this.socket.writableLength;
  }

  /** Everything held for this connection: its socket's and its terminal's unsent bytes, and a frame not yet whole. */
  get bufferedBytes(): number {
    return this.socket.writableLength + (this.terminal?.backlog ?? 0) + this.reader.pendingBytes;
  }

  /** Lets go of what the viewer lent us (the client restores its terminal once told, or once we are gone). */
  releaseTerminal(flushMs = 0): Promise<void> {
    return this.out ? this.out.release(flushMs) : Promise.resolve();
  }

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
    this.intake.forget(this);
    this.live = false;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    void this.releaseTerminal();
    this.reader.clear();
    this.onClose(this);
  }
}
