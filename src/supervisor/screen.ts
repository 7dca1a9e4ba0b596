import { SerializeAddon } from '@xterm/addon-serialize';
import { Terminal } from '@xterm/headless';
import { ModeTracker } from './modes';
import { renderAnsiLines } from './render';

// The headless mirror of the agent's screen. Every output chunk gets a sequence number
// and is fed to xterm; a snapshot is taken inside a write callback, so it is exactly
// "the screen after chunk N", and the chunks after N are still held here for joining.

export interface Chunk {
  seq: number;
  data: Buffer;
}

export interface ScreenSnapshot {
  seq: number;
  cols: number;
  rows: number;
  data: string;
  /** Chunks received after `seq`, to send right after the snapshot. */
  after: Chunk[];
}

export interface CaptureText {
  text: string;
  cols: number;
  rows: number;
  cursor: { x: number; y: number };
}

/** ~12 bytes per cell in xterm's buffer (measured; shared/lessons.md). */
const BYTES_PER_CELL = 12;

export class Screen {
  readonly term: Terminal;
  readonly modes: ModeTracker;
  private readonly serializer = new SerializeAddon();
  /** Last chunk received / last chunk parsed. */
  seq = 0;
  parsedSeq = 0;
  private unparsed: Chunk[] = [];
  unparsedBytes = 0;
  private snapshotWaiters: Array<(s: ScreenSnapshot) => void> = [];
  private snapshotQueued = false;
  private cached: { seq: number; cols: number; rows: number; data: string } | null = null;
  private sizeVersion = 0;
  private cachedSizeVersion = -1;
  /** Called after each chunk is parsed (flow control, waiters). */
  onParsed: () => void = () => {};

  constructor(
    cols: number,
    rows: number,
    private readonly scrollbackLines: number,
    private readonly scrollbackBytes: number,
  ) {
    this.term = new Terminal({
      cols,
      rows,
      scrollback: this.boundedScrollback(cols),
      allowProposedApi: true,
      logLevel: 'off',
    });
    this.term.loadAddon(this.serializer);
    this.modes = new ModeTracker(this.term);
  }

  private boundedScrollback(cols: number): number {
    return Math.max(100, Math.min(this.scrollbackLines, Math.floor(this.scrollbackBytes / (cols * BYTES_PER_CELL))));
  }

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }

  /** Feeds one output chunk; returns its sequence number. */
  write(data: Buffer): number {
    const seq = ++this.seq;
    this.unparsed.push({ seq, data });
    this.unparsedBytes += data.length;
    this.term.write(data, () => {
      const done = this.unparsed.shift();
      if (done) {
        this.unparsedBytes -= done.data.length;
        this.parsedSeq = done.seq;
      }
      this.onParsed();
    });
    return seq;
  }

  /** Resolves once everything written so far is parsed. */
  flush(): Promise<void> {
    return new Promise((resolve) => this.term.write('', resolve));
  }

  resize(cols: number, rows: number): void {
    if (cols === this.term.cols && rows === this.term.rows) return;
    this.term.options.scrollback = this.boundedScrollback(cols);
    this.term.resize(cols, rows);
    this.sizeVersion++;
  }

  /**
   * Calls `cb` with a snapshot at the current end of the parse queue. Requests that
   * arrive together share one serialization; an unchanged screen reuses the last one.
   */
  snapshot(cb: (s: ScreenSnapshot) => void): void {
    this.snapshotWaiters.push(cb);
    if (this.snapshotQueued) return;
    this.snapshotQueued = true;
    this.term.write('', () => {
      this.snapshotQueued = false;
      const waiters = this.snapshotWaiters;
      this.snapshotWaiters = [];
      const snap: ScreenSnapshot = { ...this.serializeNow(), after: this.unparsed.slice() };
      for (const w of waiters) w(snap);
    });
  }

  private serializeNow(): { seq: number; cols: number; rows: number; data: string } {
    const c = this.cached;
    if (c && c.seq === this.parsedSeq && this.cachedSizeVersion === this.sizeVersion) return c;
    const data = this.serializer.serialize() + this.modes.tail();
    this.cached = { seq: this.parsedSeq, cols: this.term.cols, rows: this.term.rows, data };
    this.cachedSizeVersion = this.sizeVersion;
    return this.cached;
  }

  /** The screen as text (of what is parsed so far), like `tmux capture-pane -p`. */
  capture(opts: { lines: number | null; scrollback: boolean; ansi: boolean }): CaptureText {
    const buf = this.term.buffer.active;
    const start = opts.scrollback ? 0 : buf.baseY;
    const end = buf.baseY + this.term.rows;
    let lines: string[];
    if (opts.ansi) {
      lines = renderAnsiLines(buf, start, end, this.term.cols);
    } else {
      lines = [];
      for (let y = start; y < end; y++) lines.push((buf.getLine(y)?.translateToString(true) ?? '').replace(/\s+$/, ''));
    }
    while (lines.length > 0 && stripAnsi(lines[lines.length - 1]!).trim() === '') lines.pop();
    if (opts.lines !== null && lines.length > opts.lines) lines = lines.slice(lines.length - opts.lines);
    return {
      text: lines.join('\n'),
      cols: this.term.cols,
      rows: this.term.rows,
      cursor: { x: buf.cursorX, y: buf.cursorY },
    };
  }

  /** Visible screen text, lines joined by \n (for `wait --text`). */
  visibleText(): string {
    const buf = this.term.buffer.active;
    const out: string[] = [];
    for (let y = buf.baseY; y < buf.baseY + this.term.rows; y++) out.push(buf.getLine(y)?.translateToString(true) ?? '');
    return out.join('\n');
  }

  /** Every line of the active buffer, plain and with colours (the final screen on disk). */
  allLines(): { lines: string[]; ansiLines: string[]; scrollbackLines: number } {
    const buf = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < buf.length; y++) lines.push(buf.getLine(y)?.translateToString(true) ?? '');
    return { lines, ansiLines: renderAnsiLines(buf, 0, buf.length, this.term.cols), scrollbackLines: buf.baseY };
  }
}

export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;:?]*[A-Za-z]/g, '');
}
