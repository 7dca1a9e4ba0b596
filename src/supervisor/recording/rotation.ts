import { type CastHeader, type EventCode, SNAPSHOT_MARKER, encodeEvent, encodeHeader, eventPieces } from '../../recording/asciicast';
import { Recording } from '../../recording/limits';
import { recordingPartPath, listRecordingParts } from '../../store/recording-files';
import { BEFORE_REPLAY } from '../../terminal-modes';
import type { BackgroundWriter } from './background-writer';

// A recording as a series of parts, each a complete asciicast file with its own header
// and times from 0 (so each one plays alone). A part is full after about `partBytes` of
// events; the next one then begins with the screen as it is (a marker, then the screen
// drawn as one `o` event), and the part `parts` back is removed: the session keeps its
// last parts × partBytes. A reader joining the parts skips each later part's screen. In
// a flood the next part begins without it: taking it would make the mirror parse what it
// would have skipped (up to SnapshotMaxBacklog per part, several a second), and a
// flood's text plays on a blank screen as well.

/** The screen the mirror shows after every chunk received so far (mirror/screen.ts snapshot). */
export interface ScreenNow {
  cols: number;
  rows: number;
  /** The serialized visible screen. */
  bytes: Buffer;
  /** Output received while it was taken, not in `bytes`. */
  after: Array<{ data: Buffer }>;
}

export interface RotationHost {
  /** The visible screen once the mirror has parsed everything received so far. */
  snapshot(cb: (s: ScreenNow) => void): void;
  /** Bytes the mirror has received and not parsed yet. */
  readonly mirrorBacklog: number;
  /** Output arrives as a flood (the mirror batches it and skips what scrolls away). */
  readonly flooding: boolean;
}

/** What every part's header says. */
export interface PartHeaderBase {
  id: string;
  command: string;
  env: Record<string, string>;
  input: boolean;
}

export class Rotation {
  /** The current part's number; a restarted session's run goes on after the parts it left. */
  private part: number;
  /** performance.now() when the current part began: event times count from there. */
  private startedAt = 0;
  /** Bytes of events in the current part (not its header and screen). */
  private bytes = 0;
  private awaitingScreen = false;
  private ended = false;

  constructor(
    private readonly dir: string,
    private readonly partBytes: number,
    private readonly parts: number,
    private readonly base: PartHeaderBase,
    private readonly writer: BackgroundWriter,
    private readonly host: RotationHost,
    cols: number,
    rows: number,
  ) {
    this.part = listRecordingParts(dir).at(-1)?.part ?? 0;
    this.begin(cols, rows, []);
  }

  /**
   * One event, timed now; `ascii`: the data is known to be ASCII; `size`: the window now
   * (for the header of a part that begins).
   */
  append(code: EventCode, data: string, ascii: boolean, size: { cols: number; rows: number }): void {
    if (this.ended) return;
    if (this.bytes >= this.partBytes && !this.awaitingScreen) this.next(size);
    // Timed after the part is chosen: times count from the start of the part they are in.
    const [head, json, tail] = eventPieces((performance.now() - this.startedAt) / 1000, code, data);
    const before = this.writer.queued;
    this.writer.append(head, true);
    this.writer.append(json, ascii);
    this.writer.append(tail, true);
    this.bytes += Math.max(0, this.writer.queued - before);
  }

  /** No more parts (the end): a screen still awaited is not used. */
  end(): void {
    this.ended = true;
  }

  private next(size: { cols: number; rows: number }): void {
    if (this.host.flooding || this.host.mirrorBacklog > Recording.SnapshotMaxBacklog) return this.begin(size.cols, size.rows, []);
    // Events go on into this part until the screen is there: it then shows all of them.
    this.awaitingScreen = true;
    this.host.snapshot((s) => {
      this.awaitingScreen = false;
      if (this.ended) return;
      const afterBytes = s.after.reduce((n, c) => n + c.data.length, 0);
      if (afterBytes > Recording.SnapshotMaxBacklog) return this.begin(s.cols, s.rows, []);
      // The chunks after the snapshot are in the part before too: here they complete the screen.
      const decoder = new TextDecoder();
      let screen = BEFORE_REPLAY + decoder.decode(s.bytes);
      for (const c of s.after) screen += decoder.decode(c.data, { stream: true });
      screen += decoder.decode();
      this.begin(s.cols, s.rows, [encodeEvent(0, 'm', SNAPSHOT_MARKER), encodeEvent(0, 'o', screen)]);
    });
  }

  private begin(cols: number, rows: number, preamble: string[]): void {
    this.part++;
    const startMs = Date.now();
    this.startedAt = performance.now();
    this.bytes = 0;
    const header: CastHeader = {
      version: 2,
      width: cols,
      height: rows,
      timestamp: Math.floor(startMs / 1000),
      command: this.base.command,
      title: `symposium-mcp agent ${this.base.id}`,
      env: this.base.env,
      x_symposium: { id: this.base.id, part: this.part, startMs, input: this.base.input },
    };
    this.writer.open(recordingPartPath(this.dir, this.part));
    this.writer.append([encodeHeader(header), ...preamble].join('\n') + '\n');
    const old = this.part - this.parts;
    if (old >= 1) this.writer.remove(recordingPartPath(this.dir, old));
  }
}
