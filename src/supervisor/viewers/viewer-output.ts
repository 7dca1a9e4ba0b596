import { Flood } from '../flood';
import type { ScreenSnapshot } from '../mirror/screen';
import { TitleHint } from '../../attach-hint';
import { BEFORE_REPLAY } from '../../terminal-modes';
import type { ServerMessage } from '../../protocol/messages';
import type { ViewerTerminal } from './viewer-terminal';

// Where a viewer's screen goes: one type, two implementations. A framed viewer gets the
// replay and the output as frames on its socket; a viewer whose terminal was handed over
// (protocol.md §8.6) gets them written into that terminal, and only `shown` and `exit`
// frames on its socket. The supervisor feeds both the same way.

/** The viewer's connection, as its output sees it. */
export interface FrameSink {
  send(msg: ServerMessage): void;
  /** An output frame, coalesced with the others of this event-loop turn. */
  sendOutputFrame(frame: Buffer): void;
  /** Bytes written to the socket and not yet taken by the peer. */
  readonly socketBacklog: number;
}

export interface ViewerOutput {
  /** The viewer's own terminal, when it was handed over (the native relay drives such terminals). */
  readonly terminal: ViewerTerminal | null;
  /** Bytes queued for the viewer and not yet taken. */
  readonly backlog: number;
  /** How far behind the viewer may fall before it is skipped and later redrawn. */
  backlogLimit(flooding: boolean, cols: number, rows: number): number;
  /** The screen at a sequence number, then the chunks after it. */
  replay(snap: ScreenSnapshot, reason: 'attach' | 'resync'): void;
  /** The agent changed its keyboard modes (after output this viewer has): what now undoes them. */
  leaveChanged(leave: string): void;
  /** One chunk of output; `frame` encodes it once for every framed viewer. */
  output(data: Buffer, frame: () => Buffer): void;
  /** A chunk the native relay already wrote to this viewer's terminal. */
  relayed(data: Buffer): void;
  /** The agent has ended: resolves once the viewer has been told. */
  exit(code: number | null, signal: string | null, flushMs: number): Promise<void>;
  /** Lets go of whatever the viewer lent us (nothing, or its terminal). */
  release(flushMs?: number): Promise<void>;
}

export class SocketOutput implements ViewerOutput {
  readonly terminal = null;

  constructor(private readonly conn: FrameSink) {}

  get backlog(): number {
    return this.conn.socketBacklog;
  }

  backlogLimit(): number {
    return Flood.ViewerBacklog;
  }

  replay(snap: ScreenSnapshot, reason: 'attach' | 'resync'): void {
    const data = snap.bytes.toString('utf8');
    this.conn.send({ t: 'snapshot', seq: snap.seq, cols: snap.cols, rows: snap.rows, reason, data, leave: snap.leave });
    for (const ch of snap.after) this.conn.send({ t: 'output', seq: ch.seq, data: ch.data });
  }

  leaveChanged(leave: string): void {
    this.conn.send({ t: 'leave', data: leave });
  }

  output(_data: Buffer, frame: () => Buffer): void {
    this.conn.sendOutputFrame(frame());
  }

  relayed(): void {}

  exit(code: number | null, signal: string | null): Promise<void> {
    this.conn.send({ t: 'exit', code, signal });
    return Promise.resolve();
  }

  release(): Promise<void> {
    return Promise.resolve();
  }
}

/** Time the undoing of the keyboard modes gets to reach a terminal being let go, behind what it was sent before. */
const LEAVE_FLUSH_MS = 250;

export class TerminalOutput implements ViewerOutput {
  /**
   * Set by the supervisor: stops what else uses the terminal (the native relay) before it
   * is let go, or before the attach hint is taken back (its key reads are then resumed).
   */
  beforeRelease: () => Promise<void> | null = () => null;
  /** Set by the hub: the attach hint was taken back after its time, the native relay may take the terminal. */
  hintExpired: () => void = () => {};
  /** What undoes the keyboard modes the terminal was given (key-modes.ts), written before it is let go. */
  private leave = '';
  private letGo = false;
  /** The detach key in the title for the first seconds (attach-hint.ts), when the client asked for it. */
  private readonly hint: TitleHint | null;

  constructor(
    private readonly conn: FrameSink,
    readonly terminal: ViewerTerminal,
    hint: string | null = null,
  ) {
    this.hint = hint
      ? new TitleHint(hint, (bytes) => terminal.write(bytes), {
          due: () => this.hintDue(),
          expired: () => {
            terminal.reserved = false;
            this.hintExpired();
          },
        })
      : null;
  }

  /**
   * The hint's time is up. The native relay may be writing the agent's output straight
   * into the terminal (we follow it from its tee, relayed()): it steps aside, and stays
   * aside (reserved) until the hint is taken back at a boundary of the stream.
   */
  private hintDue(): void {
    const hint = this.hint!;
    this.terminal.reserved = true;
    const stopped = this.beforeRelease();
    if (!stopped) return hint.tryRestore();
    void stopped.then(() => {
      // The relay stopped as for a release: the terminal's key reads are ours again.
      this.terminal.resumeReads();
      if (hint.showing) hint.tryRestore();
      else this.hintExpired(); // ended meanwhile (a resync, a detach): the relay may come back
    });
  }

  get backlog(): number {
    return this.terminal.backlog;
  }

  /**
   * During a flood, tmux's rule (Flood.TerminalFloodBytesPerCell per cell of the window):
   * a terminal that cannot keep up then shows the screen as it is, redrawn a few times a
   * second, instead of minutes of old lines, and a Ctrl-C typed into the flood shows its
   * effect at once. Short of a flood the limit is a framed viewer's, so a terminal that
   * stalls a moment misses no line.
   */
  backlogLimit(flooding: boolean, cols: number, rows: number): number {
    if (!flooding) return Flood.ViewerBacklog;
    return Math.max(Flood.TerminalFloodBacklogMin, Flood.TerminalFloodBytesPerCell * cols * rows);
  }

  replay(snap: ScreenSnapshot, reason: 'attach' | 'resync'): void {
    const t = this.terminal;
    // A resync replaces the stream: the hint goes first (the title stack as it was), then
    // undo what the terminal holds of the agent's keyboard modes.
    this.endHint();
    t.write(this.leave + BEFORE_REPLAY);
    this.leave = snap.leave;
    t.write(snap.bytes);
    if (reason === 'attach') this.hint?.start(snap.bytes);
    for (const ch of snap.after) this.output(ch.data);
    this.conn.send({ t: 'shown', seq: snap.seq, cols: snap.cols, rows: snap.rows, reason });
  }

  output(data: Buffer): void {
    this.terminal.write(data);
    this.hint?.output(data);
  }

  relayed(data: Buffer): void {
    this.hint?.track(data);
  }

  private endHint(): void {
    if (!this.hint?.showing) return;
    this.hint.end();
    this.terminal.reserved = false;
  }

  /** The client prints its exit line once told: the terminal must be ours no more. */
  async exit(code: number | null, signal: string | null, flushMs: number): Promise<void> {
    await this.release(flushMs);
    this.conn.send({ t: 'exit', code, signal });
  }

  leaveChanged(leave: string): void {
    this.leave = leave;
  }

  release(flushMs = 0): Promise<void> {
    const letGo = () => {
      // The client writes the rest of the reset (ON_LEAVE) once we have let go.
      if (!this.letGo && !this.terminal.isReleased) this.endHint(); // the client pops only its own title
      if (!this.letGo && !this.terminal.isReleased && this.leave) {
        this.terminal.write(this.leave);
        flushMs = Math.max(flushMs, LEAVE_FLUSH_MS);
      }
      this.letGo = true;
      return this.terminal.release(flushMs);
    };
    const first = this.beforeRelease();
    return first ? first.then(letGo) : letGo();
  }
}
