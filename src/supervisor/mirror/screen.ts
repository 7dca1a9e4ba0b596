import { type AgentSignal, watchAgentSignals } from './agent-signals';
import type { SerializeAddon } from '@xterm/addon-serialize';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { type IBuffer, Terminal } from '@xterm/headless';
import { Flood, RateMeter } from '../flood';
import { linesIn, skippable } from './fast-forward';
import type { KeyMode } from '../../keys/encode';
import { KeyModeTracker } from './key-modes';
import { ModeTracker } from './modes';
import { QueryAnswers, type TerminalFacts } from './query-answers';
import { log } from '../lifecycle/log';
import { HistoryArchive } from './history-archive';
import { HistoryCache } from './history-cache';
import { ARCHIVING_FEED_BYTES, BYTES_PER_CELL, FLOOD_SKIP_QUIET_MS, HISTORY_BUSY_MS, HISTORY_CHUNK_LINES, HISTORY_MIN_LINES, LIVE_HISTORY_LINES, SCROLLBACK_GROW_LINES } from './history-tuning';
import { flat, renderAnsiLines } from './render';
import { maxScrolls } from './scroll-bound';
import { loadSerializeAddon } from './serialize-addon';
import { type LineList, normalLines, parserAtGround, scrollRegion, setScrollback } from './xterm-internals';

// The headless mirror of the agent's screen, private behind this class: the rest of the
// supervisor sees chunks go in and snapshots, captures and a few facts come out. Every
// output chunk gets a sequence number and waits in our own queue; xterm gets at most
// Flood.FeedBytes at a time. A snapshot is a
// marker in that queue: it is taken when xterm has parsed exactly the chunks before it
// ("the screen after chunk N"), and the chunks after N are still queued here for joining.
// Keeping the backlog on our side also lets a plain-text flood be fast-forwarded.

export interface Chunk {
  seq: number;
  data: Buffer;
}

export interface ScreenSnapshot {
  seq: number;
  cols: number;
  rows: number;
  /**
   * The serialized screen, UTF-8. Bytes, not a string: the serializer builds a rope of
   * thousands of pieces, and encoding that took 15 ms for 5 000 lines of history, in the
   * way of an attach; here it is done once, when the snapshot is made (often in advance).
   */
  bytes: Buffer;
  /** Chunks received after `seq`, to send right after the snapshot. */
  after: Chunk[];
  /** What undoes, on the viewer's terminal, the keyboard modes this snapshot sets (key-modes.ts). */
  leave: string;
}

export interface CaptureText {
  text: string;
  cols: number;
  rows: number;
  cursor: { x: number; y: number };
  /** The normal screen's absolute number of the first line of `text` (null on the alternate screen). */
  firstLine: number | null;
  /** The absolute number of the cursor's line: where a capture `since` it continues. */
  nextLine: number | null;
  /** Lines asked for (`since`) that had already left the history. */
  skipped: number;
  /** The alternate screen is shown (a full-screen program): `text` is that screen. */
  alternate: boolean;
}

export interface CaptureOptions {
  lines: number | null;
  scrollback: boolean;
  ansi: boolean;
  /** From this absolute line on (a previous capture's nextLine), history included. */
  since: number | null;
}

/** The final screen as it is kept on disk for `capture` after the end. */
export interface FinalScreenData {
  cols: number;
  rows: number;
  cursor: { x: number; y: number };
  lines: string[];
  ansiLines: string[];
  scrollbackLines: number;
  /** The absolute number of lines[0] (lines that left the history before it). */
  firstLine: number;
}

type Marker = { marker: () => void };
type Serialized = Omit<ScreenSnapshot, 'after'>;
type Queued = Chunk | Marker;

export class Screen {
  private readonly term: Terminal;
  private readonly modes: ModeTracker;
  private readonly keyModes: KeyModeTracker;
  /** What the last answering viewer's terminal told of itself (query-answers.ts). */
  private readonly facts: TerminalFacts = { version: null, foreground: null, background: null, cursor: null, kitty: false };
  /** Loaded on the first snapshot: ~0.8 MB an agent nobody attaches to never pays. */
  private serializerAddon: SerializeAddon | null = null;
  /** Last chunk received / last chunk parsed. */
  seq = 0;
  parsedSeq = 0;
  /** Received, not yet handed to xterm (chunks and markers, in order). */
  private queue: Queued[] = [];
  /** Handed to xterm, not yet parsed. */
  private inflight: Chunk[] = [];
  private inflightBytes = 0;
  /** Bytes received and not yet parsed: what flow control looks at. */
  unparsedBytes = 0;
  /** Bytes skipped by fast-forward (for tests and the log). */
  skippedBytes = 0;
  /** Bytes received so far, and when the next fast-forward attempt may be made. */
  private receivedBytes = 0;
  private nextSkipAt = 0;
  /** Flood detection and batching (see holdForBatch). */
  private markers = 0;
  private readonly rate = new RateMeter();
  private batchTimer: NodeJS.Timeout | null = null;
  private batchReleased = false;
  /** The last chunk received when the batch was released: later ones wait for the next. */
  private releasedUpTo = 0;
  /** The parser was inside a sequence: feed it a chunk before trying to skip again. */
  private feedBeforeSkip = false;
  private snapshotWaiters: Array<{ cb: (s: ScreenSnapshot) => void; scrollback: boolean }> = [];
  private snapshotQueued = false;
  private cached: Serialized | null = null;
  private sizeVersion = 0;
  private cachedSizeVersion = -1;
  /** The history serialized in advance (history-cache.ts), one chunk per turn of this timer. */
  private readonly history: HistoryCache;
  private historyTimer: NodeJS.Timeout | null = null;
  /** When the last chunk of output arrived (performance.now()). */
  private lastWriteAt = 0;
  /** Called after each chunk is parsed (flow control, waiters). */
  onParsed: () => void = () => {};
  /** Called after chunk `seq` changed the keyboard modes, with what now undoes them. */
  onKeyModes: (seq: number, leave: string) => void = () => {};

  constructor(
    cols: number,
    rows: number,
    private readonly scrollbackLines: number,
    private readonly scrollbackBytes: number,
    /** Off only in tests that compare against a full parse. */
    private readonly fastForwardEnabled = true,
    /** Lines per chunk of history serialized in advance, and the history it waits for (small in tests). */
    historyChunkLines = HISTORY_CHUNK_LINES,
    historyMinLines = HISTORY_MIN_LINES,
    /** Lines of history xterm keeps live (small in tests). */
    private readonly liveLines = LIVE_HISTORY_LINES,
  ) {
    this.term = new Terminal({
      cols,
      rows,
      scrollback: Math.min(liveLines, this.boundedScrollback(cols)),
      allowProposedApi: true,
      logLevel: 'off',
    });
    // Character widths as today's terminals measure them (emoji are wide): with xterm's
    // default Unicode 6 table, a replay shifts everything after an emoji by a column.
    this.term.loadAddon(new Unicode11Addon());
    this.term.unicode.activeVersion = '11';
    this.modes = new ModeTracker(this.term);
    this.watchLines();
    this.keyModes = new KeyModeTracker(this.term);
    new QueryAnswers(this.term, this.keyModes, () => this.facts);
    // Lines leave xterm past the live window: chunks are made from there on at the latest.
    this.history = new HistoryCache(this.term, () => this.serializer(), this.archive, () => this.trimmedLines, historyChunkLines, Math.min(historyMinLines, liveLines));
    // A reset (RIS) replaces xterm's buffers: the history, and the screen as tmux does, go to
    // the archive first. An erase of the history (ED 3) empties the archive too.
    this.term.parser.registerEscHandler({ final: 'c' }, () => {
      this.beforeReset();
      return false;
    });
    for (const prefix of [undefined, '?'] as const) {
      this.term.parser.registerCsiHandler({ prefix, final: 'J' }, (params) => {
        if (params[0] === 3 && this.term.buffer.active.type === 'normal') {
          this.history.clear();
          this.archive.clear();
        }
        return false;
      });
    }
  }

  /** What a viewer's terminal answered to the agent's queries: answers given later are like it. */
  learnTerminal(facts: Partial<TerminalFacts>): void {
    Object.assign(this.facts, facts);
  }

  /** How the agent asked for keys to be encoded (as of what is parsed). */
  keyMode(): KeyMode {
    return this.keyModes.keyMode();
  }

  /**
   * Lines dropped from the top of the normal buffer so far (also across resets): with it, a
   * line's absolute number (trimmedLines + its index) names it for as long as the agent
   * runs. (A resize reflows the live lines and may shift later numbers by a few.)
   */
  private trimmedLines = 0;
  /** The normal buffer's line list whose trims are counted (a reset makes a new one). */
  private watchedLines: LineList | null = null;
  /** The number of the first line of the list a reset is about to make. */
  private baseAfterReset: number | null = null;
  /** The history that left xterm's buffer (history-archive.ts). */
  private readonly archive = new HistoryArchive();
  /** Lines the chunks handed to xterm and not yet parsed can scroll at most (scroll-bound.ts). */
  private inflightScrolls = 0;
  private readonly inflightScrollCounts: number[] = [];
  /** When a fast-forward last skipped output (performance.now()). */
  private lastSkipAt = -Infinity;
  /** The absolute number of the parsed lines' end when the output last paused (the start of a burst). */
  private calmAtLine = 0;

  /** Counts the lines dropped from the normal buffer's list, a new list (after a reset) too. */
  private watchLines(): void {
    const lines = normalLines(this.term);
    if (!lines || lines === this.watchedLines) return;
    this.watchedLines = lines;
    if (this.baseAfterReset !== null) this.trimmedLines = this.baseAfterReset;
    this.baseAfterReset = null;
    lines.onTrim?.call(lines, (n: number) => {
      if (this.watchedLines === lines) this.trimmedLines += n;
    });
  }

  /** RIS: every line of the normal buffer up to its last written one goes to the archive (tmux keeps them as history too). */
  private beforeReset(): void {
    this.watchLines();
    const buf = this.term.buffer.normal;
    let last = buf.length - 1;
    while (last >= 0 && (buf.getLine(last)?.translateToString(true) ?? '') === '') last--;
    if (last >= 0) this.history.archiveAll(last);
    this.baseAfterReset = this.trimmedLines + last + 1;
  }

  /** The history promised (lines, the bytes bound included) at this width. */
  private historyLimit(cols = this.term.cols): number {
    return this.boundedScrollback(cols);
  }

  /** Chunks whose lines left xterm go to the archive; the archive keeps the history's bound. */
  private syncHistory(): void {
    this.watchLines();
    this.history.moveLeft();
    this.archive.keepFrom(this.trimmedLines + this.term.buffer.normal.baseY - this.historyLimit());
  }

  /** The index of the first line no chunk holds (0 while a reset is under way: the new list has none). */
  private firstUnmade(): number {
    return this.baseAfterReset !== null ? 0 : this.history.firstUnmade();
  }

  /**
   * Lines no chunk holds yet must not leave xterm: before more output is handed to it, its
   * scrollback grows to keep them, up to the history's bound (past it they would go anyway).
   */
  private keepUnmade(): void {
    const need = this.term.buffer.normal.baseY + this.inflightScrolls - this.firstUnmade();
    const limit = this.historyLimit();
    if (need > this.term.options.scrollback! && this.term.options.scrollback! < limit) {
      setScrollback(this.term, Math.min(limit, need + SCROLLBACK_GROW_LINES));
    }
  }

  /** Lines that enter the history now are serialized as they come, if need be: not in a long flood. */
  private archivingAllowed(): boolean {
    return performance.now() - this.lastSkipAt >= FLOOD_SKIP_QUIET_MS && this.trimmedLines + this.term.buffer.normal.baseY - this.calmAtLine <= this.historyLimit();
  }

  /** The history is serialized as it is parsed: more than the live window is unserialized, and no long flood is on. */
  private archivingAsParsed(): boolean {
    return this.archivingAllowed() && this.term.buffer.normal.baseY - this.firstUnmade() > this.liveLines && this.history.behind();
  }

  /** Bytes xterm may have in flight: fewer while lines may be serialized as they come (the history is longer than the live window). */
  private feedBytes(): number {
    return this.liveLines < this.historyLimit() && this.archivingAllowed() ? ARCHIVING_FEED_BYTES : Flood.FeedBytes;
  }

  /** Back to the live window once the lines above it are serialized: xterm drops them, the archive has them. */
  private fitScrollback(): void {
    this.syncHistory();
    const target = Math.max(Math.min(this.liveLines, this.historyLimit()), this.term.buffer.normal.baseY + this.inflightScrolls - this.firstUnmade());
    if (this.term.options.scrollback! - target >= HISTORY_CHUNK_LINES || (this.term.options.scrollback! > target && target <= this.liveLines)) {
      setScrollback(this.term, target);
      this.syncHistory();
    }
  }

  /** Answers of the headless terminal to the agent's queries (DA, CPR…). */
  onAnswer(cb: (answer: string) => void): void {
    this.term.onData(cb);
  }

  /** What the agent says through its output (agent-signals.ts), reported while the chunk holding it is parsed (see parsingSeq). */
  onSignal(cb: (s: AgentSignal) => void): void {
    watchAgentSignals(this.term, cb);
  }

  /** The number of the chunk xterm is parsing now. */
  get parsingSeq(): number {
    return this.parsedSeq + 1;
  }

  /** The agent turned bracketed paste (mode 2004) on. */
  get bracketedPaste(): boolean {
    return this.term.modes.bracketedPasteMode;
  }

  /** Lines in the normal buffer, history included. */
  /** The absolute number of the cursor's line (as capture's nextLine); null on the alternate screen. */
  get cursorLine(): number | null {
    const buf = this.term.buffer.active;
    return buf.type === 'normal' ? this.trimmedLines + buf.baseY + buf.cursorY : null;
  }

  get historyLines(): number {
    return this.trimmedLines + this.term.buffer.normal.length - (this.archive.first ?? this.trimmedLines);
  }

  /** Lines of history xterm holds live now (the rest is archived). */
  get liveHistoryLines(): number {
    return this.term.buffer.normal.baseY;
  }

  /** The window title the agent set (empty if none). */
  get title(): string {
    return this.modes.windowTitle;
  }

  private serializer(): SerializeAddon {
    if (!this.serializerAddon) {
      const { SerializeAddon: Addon, missing } = loadSerializeAddon();
      if (missing.length > 0) {
        log(`@xterm/addon-serialize is not the version serialize-addon.ts patches (not found: ${missing.join('; ')}): loaded unpatched, replays lose what the patches fix`);
      }
      this.serializerAddon = new Addon();
      this.term.loadAddon(this.serializerAddon);
    }
    return this.serializerAddon;
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

  /** Output arrives as fast as a flood (measured over the last complete rate window). */
  get flooding(): boolean {
    return this.rate.flooding;
  }

  /** Queues one output chunk; returns its sequence number. */
  write(data: Buffer): number {
    const seq = ++this.seq;
    const now = performance.now();
    // A pause in the output starts a new burst. Not the rate's windows: while lines are
    // serialized as they come this process reads slowly, the rate it sees stays under a
    // flood's, and a flood would be serialized line by line to its end, the pump never
    // called in (a 32 MB flood: the pump carried 5.7 MB instead of all but the start).
    if (now - this.lastWriteAt >= HISTORY_BUSY_MS) this.calmAtLine = this.trimmedLines + this.term.buffer.normal.baseY;
    this.lastWriteAt = now;
    this.queue.push({ seq, data });
    this.unparsedBytes += data.length;
    this.receivedBytes += data.length;
    // The arrival rate tells a flood from interactive output.
    this.rate.record(data.length);
    this.pump();
    return seq;
  }

  /** Runs `fn` once everything queued before it is parsed, before anything after it. */
  private mark(fn: () => void): void {
    this.markers++;
    this.queue.push({
      marker: () => {
        this.markers--;
        fn();
      },
    });
    this.pump();
  }

  /**
   * During a flood, parsing every chunk as it comes keeps the backlog too short to
   * fast-forward: the reads and the parser just share the CPU. So while output arrives
   * as a flood, the mirror lets a batch build up (at most Flood.BatchMaxMs, or until
   * Flood.FloodBatchBytes are waiting), skips what will scroll away,
   * and parses the rest. Viewers are not delayed (they get every chunk as it arrives);
   * only the mirror lags, and any snapshot or flush request ends the wait at once.
   */
  private holdForBatch(): boolean {
    if (!this.fastForwardEnabled || this.markers > 0 || this.batchReleased || !this.rate.lastWindowFlooded) return false;
    if (this.unparsedBytes >= Flood.FloodBatchBytes) {
      // Much waits already: skip what would scroll away and hold on. Only a backlog that
      // cannot be skipped (not plain) is parsed before the batch ends.
      if (this.inflight.length === 0 && this.receivedBytes >= this.nextSkipAt) this.fastForward();
      if (this.unparsedBytes < Flood.FloodBatchBytes) return true;
      this.releaseBatch();
      return false;
    }
    if (!this.batchTimer) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = null;
        this.releaseBatch();
        this.pump();
      }, Flood.BatchMaxMs);
    }
    return true;
  }

  /**
   * Parse what waits now; the next batch starts with the first chunk received after this.
   * (Ending the batch only once the queue ran empty let a flood, which keeps the queue
   * full, be parsed as it came after its first batch: 18 of 101 MB parsed, not ~5.)
   */
  private releaseBatch(): void {
    this.batchReleased = true;
    this.releasedUpTo = this.seq;
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
  }

  /** Resolves once everything written so far is parsed. */
  flush(): Promise<void> {
    return new Promise((resolve) => this.mark(resolve));
  }

  private pump(): void {
    if (this.queue.length === 0) this.batchReleased = false;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if ('marker' in head) {
        if (this.inflight.length > 0) return; // xterm has not reached this point yet
        this.queue.shift();
        head.marker();
        continue;
      }
      if (this.inflightBytes >= this.feedBytes()) return;
      if (this.batchReleased && head.seq > this.releasedUpTo) this.batchReleased = false;
      if (this.holdForBatch()) return;
      if (this.fastForwardEnabled && !this.feedBeforeSkip && this.unparsedBytes >= Flood.FastForwardMinBytes && this.receivedBytes >= this.nextSkipAt) {
        // Let xterm drain first: the cut is only safe from its ground state.
        if (this.inflight.length > 0) return;
        // Inside a sequence split between chunks (coloured output often is): one more
        // chunk first, then try again.
        if (!this.fastForward()) this.feedBeforeSkip = true;
        continue;
      }
      this.feedBeforeSkip = false;
      const chunk = this.queue.shift() as Chunk;
      this.inflight.push(chunk);
      this.inflightBytes += chunk.data.length;
      const scrolls = maxScrolls(chunk.data, this.term.cols);
      this.inflightScrollCounts.push(scrolls);
      this.inflightScrolls += scrolls;
      this.keepUnmade();
      this.term.write(chunk.data, () => this.parsedOne());
    }
  }

  private parsedOne(): void {
    this.watchLines();
    const done = this.inflight.shift();
    this.inflightScrolls -= this.inflightScrollCounts.shift() ?? 0;
    if (done) {
      this.inflightBytes -= done.data.length;
      this.unparsedBytes -= done.data.length;
      this.parsedSeq = done.seq;
      if (this.keyModes.takeChanged()) this.onKeyModes(done.seq, this.keyModes.leave());
    }
    if (this.archivingAsParsed()) {
      // More than the live window waits unserialized (a burst): serialized now, so that xterm
      // does not grow to hold it (its memory would stay taken after: malloc keeps it). Its
      // scrollback is not shrunk here: a full buffer recycles the lines it drops, a shrunk
      // one allocates new ones, and the old ones wait for a major GC (13 MB of them once).
      this.history.extend();
      this.syncHistory();
    } else if (!this.historyTimer && !this.rate.lastWindowFlooded && this.history.behind()) this.historySoon(0);
    this.onParsed();
    this.pump();
  }

  /**
   * Skips the start of a flood that would scroll out of the buffer anyway; false when the
   * parser is inside a sequence and nothing could be tried.
   */
  private fastForward(): boolean {
    // Only from the parser's ground state: a cut inside an escape sequence would not be plain.
    if (!parserAtGround(this.term)) return false;
    this.nextSkipAt = this.receivedBytes + Flood.FastForwardMinBytes;
    const chunks: Chunk[] = [];
    for (const q of this.queue) {
      if ('marker' in q) break; // never skip past a snapshot point
      chunks.push(q);
    }
    // As many lines as the whole history keeps, not only xterm's live window.
    const scrollback = this.historyLimit();
    const { bytes, replay } = skippable(
      chunks.map((c) => c.data),
      scrollback + 2 * this.term.rows + 16,
      scrollback + this.term.rows + 16,
    );
    if (bytes === 0) return true;
    this.lastSkipAt = performance.now();
    // The lines skipped would have entered the history and left it: their numbers count.
    // (Only the normal screen scrolling from its top row feeds the history; what is
    // skipped is plain text, so neither changes during the skip.)
    if (this.term.buffer.active.type === 'normal' && (scrollRegion(this.term)?.top ?? 0) === 0) {
      // Counted from the cursor's column: the parse stopped where a chunk ended, often
      // inside a line, and the rest of that line counted from column 0 wrapped one time
      // fewer (numbers one line behind a full parse's; fast-forward.ts's linesIn).
      this.trimmedLines += linesIn(chunks.map((c) => c.data), bytes, this.term.cols, this.term.buffer.normal.cursorX);
      // What follows the cut fills the whole history: every older line goes.
      this.history.clear();
      this.archive.clear();
    }
    let skip = bytes;
    this.skippedBytes += skip - replay.length;
    this.unparsedBytes -= skip - replay.length;
    while (skip > 0) {
      const c = this.queue[0] as Chunk;
      if (c.data.length < skip || (c.data.length === skip && replay.length === 0)) {
        skip -= c.data.length;
        this.queue.shift();
        this.parsedSeq = c.seq; // its effect on the screen is nil: it counts as parsed
      } else {
        // The chunk the cut falls in keeps its number; the attributes set by the skipped
        // SGR sequences are parsed in place of the skipped bytes.
        const rest = c.data.subarray(skip);
        c.data = replay.length > 0 ? Buffer.concat([replay, rest]) : rest;
        skip = 0;
      }
    }
    return true;
  }

  /**
   * Serializes the next chunk of history soon, one chunk per turn of the event loop (a few
   * ms each, so keys and requests are not held up), so that a snapshot right after the
   * output finds nearly all of it done. While output still comes, the chunks take at most
   * a quarter of the time: serializing a line costs ~5 times parsing it (measured: 5 000
   * lines, 20 ms per 256 against 4), so steady fast output would otherwise be slowed
   * down. Not during a flood: most of it would be trimmed before anyone attaches; the
   * advance snapshot after it (warm) catches up.
   */
  private historySoon(delayMs: number): void {
    if (this.historyTimer || !this.history.behind()) return;
    this.historyTimer = setTimeout(() => {
      this.historyTimer = null;
      // Not in a flood, nor after one until a calm window of output came: the next output
      // asks again, and the advance snapshot after 500 ms of quiet (warm) makes what is
      // left. (`flooding` alone reads false for a moment while the mirror parses a batch,
      // and chunks made then are trimmed away unused: a 100 MB flood ran at 0.86x tmux's
      // speed in the run that had them, 1.16-1.37x before.)
      // Nor while a flood is being skipped: the windows between its batches read calm, and
      // 20 480 of the 40 192 lines serialized during a 62 MB flood were made here, then
      // thrown away with the skipped lines.
      if (this.rate.lastWindowFlooded || performance.now() - this.lastSkipAt < FLOOD_SKIP_QUIET_MS) return;
      const t0 = performance.now();
      this.history.extend(1);
      this.syncHistory();
      const took = performance.now() - t0;
      this.historySoon(t0 - this.lastWriteAt < HISTORY_BUSY_MS ? 3 * took : 0);
    }, delayMs);
    this.historyTimer.unref();
  }

  /**
   * Reflows the live lines (xterm's buffer) to the new width; the archived ones stay as
   * they were (as tmux, whose history is not reflowed either... see docs).
   */
  resize(cols: number, rows: number): void {
    if (cols === this.term.cols && rows === this.term.rows) return;
    this.syncHistory();
    const buf = this.term.buffer.normal;
    // The archive's newest chunk may still have lines at the top of the buffer: they leave
    // it now, so that the reflow cannot change which lines the archive holds.
    const overlap = (this.archive.next ?? 0) - this.trimmedLines;
    if (overlap > 0) setScrollback(this.term, Math.max(0, buf.baseY - overlap));
    this.history.clear(); // the live history is reflowed
    // Room for the reflow: narrower, a line wraps into several, and none may leave xterm
    // unserialized; fitScrollback shrinks it again once the chunks are made.
    const ratio = Math.ceil(this.term.cols / cols);
    const room = (buf.length + this.inflightScrolls) * ratio + this.term.rows;
    setScrollback(this.term, Math.min(this.historyLimit(cols), Math.max(this.term.options.scrollback!, room)));
    this.term.resize(cols, rows);
    this.syncHistory();
    this.sizeVersion++;
  }

  /**
   * Calls `cb` with a snapshot at the current end of the parse queue. Requests that
   * arrive together share one serialization; an unchanged screen reuses the last one.
   * Without scrollback it is the visible screen only: cheap and small, for resyncing a
   * viewer that fell behind (tmux redraws just the screen too).
   */
  snapshot(cb: (s: ScreenSnapshot) => void, scrollback = true): void {
    this.snapshotWaiters.push({ cb, scrollback });
    if (this.snapshotQueued) return;
    this.snapshotQueued = true;
    this.mark(() => {
      this.snapshotQueued = false;
      const waiters = this.snapshotWaiters;
      this.snapshotWaiters = [];
      const after = this.queue.filter((q): q is Chunk => !('marker' in q));
      let full: ScreenSnapshot | null = null;
      let visible: ScreenSnapshot | null = null;
      for (const w of waiters) {
        if (w.scrollback) w.cb((full ??= { ...this.serializeNow(), after }));
        else w.cb((visible ??= { ...this.serializeVisible(), after }));
      }
    });
  }

  /**
   * Prepares the next attach now, at the current end of the queue: the supervisor calls
   * this when the agent has gone quiet. The history's chunks are made (history-cache.ts);
   * the rest, about one chunk and the screen, is serialized when someone attaches (3-6
   * ms). Keeping the whole snapshot as well would hold the history twice (1.3 MB more
   * for 10 000 coloured lines of 120 columns).
   */
  warm(): void {
    this.mark(() => {
      this.history.extend();
      this.fitScrollback();
    });
  }

  private serializeNow(): Serialized {
    const c = this.cached;
    if (c && c.seq === this.parsedSeq && this.cachedSizeVersion === this.sizeVersion) return c;
    // The history in chunks (archived or made in advance), then the rest from the first line they lack.
    this.syncHistory();
    this.history.extend();
    const { parts, next } = this.history.prefix();
    const rest = next === 0 ? this.serializer().serialize() : this.serializer().serialize({ scrollback: Math.max(0, this.term.buffer.normal.length - this.term.rows - next) });
    const snap = this.serialized(parts, rest);
    // Kept for the next request at the same point only while small: a long history is in
    // the chunks already, and a copy of it would double it.
    this.cached = parts.length === 0 ? snap : null;
    this.cachedSizeVersion = this.sizeVersion;
    return snap;
  }

  private serializeVisible(): Serialized {
    return this.serialized([], this.serializer().serialize({ scrollback: 0 }));
  }

  /** The keyboard modes around the screen: the main screen's before it, the rest after. */
  private serialized(history: Buffer[], screen: string): Serialized {
    const head = Buffer.from(this.keyModes.head(), 'utf8');
    const rest = Buffer.from(screen + this.modes.tail() + this.keyModes.tail(), 'utf8');
    const bytes = history.length === 0 && head.length === 0 ? rest : Buffer.concat([head, ...history, rest]);
    return { seq: this.parsedSeq, cols: this.term.cols, rows: this.term.rows, bytes, leave: this.keyModes.leave() };
  }

  /** The screen as text (of what is parsed so far), like `tmux capture-pane -p`. */
  capture(opts: CaptureOptions): CaptureText {
    this.syncHistory();
    const buf = this.term.buffer.active;
    const alternate = buf.type === 'alternate';
    // Absolute numbers on the normal screen (archive, then xterm's buffer); indexes on the alternate one.
    const base = alternate ? 0 : this.trimmedLines;
    const archived = alternate ? null : this.archive.next;
    const top = alternate ? 0 : (this.archive.first ?? base);
    let start = opts.scrollback ? top : base + buf.baseY;
    let skipped = 0;
    if (opts.since !== null && !alternate) {
      skipped = Math.max(0, top - opts.since);
      start = Math.max(top, Math.min(opts.since, base + buf.baseY + buf.cursorY));
    }
    const end = base + buf.baseY + this.term.rows;
    const live = archived === null ? start : Math.max(start, archived);
    const tail: string[] = [];
    for (let y = Math.max(0, live - base); y < end - base; y++) tail.push(this.lineAt(buf, y, opts.ansi));
    let lines = tail;
    if (archived !== null && start < archived) {
      // The archived lines, only as many as `lines` may need (each chunk read is replayed).
      const trimmedTail = dropBlankEnd(tail.slice());
      let from = start;
      if (opts.lines !== null && trimmedTail.length > 0) from = Math.max(start, archived - Math.max(0, opts.lines - trimmedTail.length));
      lines = from < archived ? [...this.archivedLines(from, archived, opts.ansi), ...tail] : tail;
      if (from > start && opts.lines !== null && dropBlankEnd(lines.slice()).length < opts.lines) lines = [...this.archivedLines(start, archived, opts.ansi), ...tail];
      else start = from;
    }
    dropBlankEnd(lines);
    if (opts.lines !== null && lines.length > opts.lines) {
      start += lines.length - opts.lines;
      lines = lines.slice(lines.length - opts.lines);
    }
    return {
      text: lines.join('\n'),
      cols: this.term.cols,
      rows: this.term.rows,
      cursor: { x: buf.cursorX, y: buf.cursorY },
      firstLine: alternate ? null : start,
      nextLine: alternate ? null : this.trimmedLines + buf.baseY + buf.cursorY,
      skipped,
      alternate,
    };
  }

  /** A line of xterm's buffer as capture gives it: trailing blanks trimmed, or with colours. */
  private lineAt(buf: IBuffer, y: number, ansi: boolean): string {
    if (ansi) return renderAnsiLines(buf, y, y + 1, this.term.cols)[0]!;
    return (buf.getLine(y)?.translateToString(true) ?? '').replace(/\s+$/, '');
  }

  private archivedLines(from: number, to: number, ansi: boolean): string[] {
    const lines = this.archive.lines(from, to, ansi);
    return ansi ? lines : lines.map((l) => l.replace(/\s+$/, ''));
  }

  /** Something is drawn on the visible screen (a character that is not a space). */
  hasContent(): boolean {
    const buf = this.term.buffer.active;
    for (let y = buf.baseY; y < buf.baseY + this.term.rows; y++) if ((buf.getLine(y)?.translateToString(true) ?? '').trim() !== '') return true;
    return false;
  }

  /** Visible screen text, lines joined by \n (for `wait --text`). */
  visibleText(): string {
    const buf = this.term.buffer.active;
    const out: string[] = [];
    for (let y = buf.baseY; y < buf.baseY + this.term.rows; y++) out.push(flat(buf.getLine(y)?.translateToString(true) ?? ''));
    return out.join('\n');
  }

  /** Every line of the active buffer (the archived history too), plain and with colours, its size and cursor (the final screen on disk). */
  finalScreen(): FinalScreenData {
    this.syncHistory();
    const buf = this.term.buffer.active;
    const normal = buf.type === 'normal';
    const next = normal ? this.archive.next : null;
    const first = next === null ? 0 : Math.max(0, next - this.trimmedLines);
    const archivedText = next === null ? null : this.archive.read(this.archive.first!, next, { plain: true, ansi: true });
    const lines: string[] = archivedText?.plain ?? [];
    const ansiLines: string[] = archivedText?.ansi ?? [];
    const archived = lines.length;
    for (let y = first; y < buf.length; y++) lines.push(flat(buf.getLine(y)?.translateToString(true) ?? ''));
    ansiLines.push(...renderAnsiLines(buf, first, buf.length, this.term.cols));
    return {
      cols: this.term.cols,
      rows: this.term.rows,
      cursor: { x: buf.cursorX, y: buf.cursorY },
      lines,
      ansiLines,
      scrollbackLines: archived + buf.baseY - first,
      firstLine: normal ? (this.archive.first ?? this.trimmedLines) : 0,
    };
  }

  /** Frees the terminal (tests compare mirrors and dispose of them). */
  dispose(): void {
    if (this.historyTimer) clearTimeout(this.historyTimer);
    this.term.dispose();
  }
}

/** Drops the blank lines at the end (colours aside), in place. */
function dropBlankEnd(lines: string[]): string[] {
  while (lines.length > 0 && stripAnsi(lines[lines.length - 1]!).trim() === '') lines.pop();
  return lines;
}

export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;:?]*[A-Za-z]/g, '');
}
