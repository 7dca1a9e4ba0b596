import { type AgentSignal, watchAgentSignals } from './agent-signals';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { Terminal } from '@xterm/headless';
import { RateMeter } from '../flood';
import type { KeyMode } from '../../keys/encode';
import { type CaptureOptions, type CaptureText, type FinalScreenData, capture, finalScreen, hasContent, visibleText } from './capture';
import { FloodSkip } from './flood-skip';
import { HistoryKeeper, historyBound } from './history-keeper';
import { HISTORY_CHUNK_LINES, HISTORY_MIN_LINES, LIVE_HISTORY_LINES } from './history-tuning';
import { KeyModeTracker } from './key-modes';
import { ModeTracker } from './modes';
import { ParseQueue } from './parse-queue';
import { QueryAnswers, type TerminalFacts } from './query-answers';
import { LazySerializer } from './serializer';
import { type ScreenSnapshot, Snapshots } from './snapshots';

// The headless mirror of the agent's screen, private behind this class: the rest of the
// supervisor sees chunks go in and snapshots, captures and a few facts come out. Its parts,
// one job each:
//   parse-queue.ts     the output's way to xterm: numbered chunks, markers, flood batches
//   flood-skip.ts      when the start of a flood is skipped (fast-forward.ts: what may be)
//   history-keeper.ts  the history kept in step with the parse: xterm's live window, the
//                      chunks serialized in advance, the archive, absolute line numbers
//                      (line-numbers.ts)
//   snapshots.ts       the screen serialized at a point of the queue, cached (serializer.ts)
//   capture.ts         the screen as text
// and the trackers of what xterm does not keep or serialize (modes.ts, key-modes.ts,
// query-answers.ts). The figures they are tuned by are in history-tuning.ts and ../flood.ts.

export type { Chunk } from './parse-queue';
export type { ScreenSnapshot } from './snapshots';
export type { CaptureOptions, CaptureText, FinalScreenData } from './capture';

export class Screen {
  private readonly term: Terminal;
  private readonly modes: ModeTracker;
  private readonly keyModes: KeyModeTracker;
  /** What the last answering viewer's terminal told of itself (query-answers.ts). */
  private readonly facts: TerminalFacts = { version: null, foreground: null, background: null, cursor: null, kitty: false };
  private readonly rate = new RateMeter();
  private readonly history: HistoryKeeper;
  private readonly skip: FloodSkip;
  private readonly queue: ParseQueue;
  private readonly snapshots: Snapshots;

  constructor(
    cols: number,
    rows: number,
    scrollbackLines: number,
    scrollbackBytes: number,
    /** Off only in tests that compare against a full parse. */
    fastForwardEnabled = true,
    /** Lines per chunk of history serialized in advance, and the history it waits for (small in tests). */
    historyChunkLines = HISTORY_CHUNK_LINES,
    historyMinLines = HISTORY_MIN_LINES,
    /** Lines of history xterm keeps live (small in tests). */
    liveLines = LIVE_HISTORY_LINES,
  ) {
    const size = { scrollbackLines, scrollbackBytes, liveLines, chunkLines: historyChunkLines, minLines: historyMinLines };
    this.term = new Terminal({
      cols,
      rows,
      scrollback: Math.min(liveLines, historyBound(size, cols)),
      allowProposedApi: true,
      logLevel: 'off',
    });
    // Character widths as today's terminals measure them (emoji are wide): with xterm's
    // default Unicode 6 table, a replay shifts everything after an emoji by a column.
    this.term.loadAddon(new Unicode11Addon());
    this.term.unicode.activeVersion = '11';
    // The order of these matters where they handle the same sequence (RIS): the last one
    // registered runs first, the history keeper's before the trackers reset.
    this.modes = new ModeTracker(this.term);
    this.keyModes = new KeyModeTracker(this.term);
    new QueryAnswers(this.term, this.keyModes, () => this.facts);
    const serializer = new LazySerializer(this.term);
    this.history = new HistoryKeeper(this.term, this.rate, size, () => serializer.get());
    this.skip = new FloodSkip(this.term, this.history, fastForwardEnabled);
    this.queue = new ParseQueue(this.term, this.rate, this.history, this.skip, this.keyModes);
    this.snapshots = new Snapshots(this.term, this.queue, this.history, serializer, this.modes, this.keyModes);
  }

  // ---- output in ---------------------------------------------------------------------

  /** Queues one output chunk; returns its sequence number. */
  write(data: Buffer): number {
    return this.queue.write(data);
  }

  /** Resolves once everything written so far is parsed. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Last chunk received. */
  get seq(): number {
    return this.queue.seq;
  }

  /** The number of the chunk xterm is parsing now. */
  get parsingSeq(): number {
    return this.queue.parsingSeq;
  }

  /** Bytes received and not yet parsed: what flow control looks at. */
  get unparsedBytes(): number {
    return this.queue.unparsedBytes;
  }

  /** Bytes skipped by fast-forward (for tests and the log). */
  get skippedBytes(): number {
    return this.skip.skippedBytes;
  }

  /** Output arrives as fast as a flood (measured over the last complete rate window). */
  get flooding(): boolean {
    return this.rate.flooding;
  }

  /** Called after each chunk is parsed (flow control, waiters). */
  get onParsed(): () => void {
    return this.queue.onParsed;
  }
  set onParsed(cb: () => void) {
    this.queue.onParsed = cb;
  }

  /** Called after chunk `seq` changed the keyboard modes, with what now undoes them. */
  get onKeyModes(): (seq: number, leave: string) => void {
    return this.queue.onKeyModes;
  }
  set onKeyModes(cb: (seq: number, leave: string) => void) {
    this.queue.onKeyModes = cb;
  }

  /** Answers of the headless terminal to the agent's queries (DA, CPR…). */
  onAnswer(cb: (answer: string) => void): void {
    this.term.onData(cb);
  }

  /** What the agent says through its output (agent-signals.ts), reported while the chunk holding it is parsed (see parsingSeq). */
  onSignal(cb: (s: AgentSignal) => void): void {
    watchAgentSignals(this.term, cb);
  }

  /** What a viewer's terminal answered to the agent's queries: answers given later are like it. */
  learnTerminal(facts: Partial<TerminalFacts>): void {
    Object.assign(this.facts, facts);
  }

  // ---- the screen ----------------------------------------------------------------------

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }

  /** Reflows the live lines (xterm's buffer) to the new width; the archived ones stay as they were. */
  resize(cols: number, rows: number): void {
    if (cols === this.term.cols && rows === this.term.rows) return;
    this.history.resize(cols, rows);
    this.snapshots.resized();
  }

  /** How the agent asked for keys to be encoded (as of what is parsed). */
  keyMode(): KeyMode {
    return this.keyModes.keyMode();
  }

  /** The agent turned bracketed paste (mode 2004) on. */
  get bracketedPaste(): boolean {
    return this.term.modes.bracketedPasteMode;
  }

  /** The window title the agent set (empty if none). */
  get title(): string {
    return this.modes.windowTitle;
  }

  /** The absolute number of the cursor's line (as capture's nextLine); null on the alternate screen. */
  get cursorLine(): number | null {
    const buf = this.term.buffer.active;
    return buf.type === 'normal' ? this.history.numbers.trimmed + buf.baseY + buf.cursorY : null;
  }

  /** Lines in the normal buffer, history included. */
  get historyLines(): number {
    return this.history.lines;
  }

  /** Lines of history xterm holds live now (the rest is archived). */
  get liveHistoryLines(): number {
    return this.term.buffer.normal.baseY;
  }

  // ---- what comes out ------------------------------------------------------------------

  /**
   * Calls `cb` with a snapshot at the current end of the parse queue (snapshots.ts); without
   * scrollback, the visible screen only.
   */
  snapshot(cb: (s: ScreenSnapshot) => void, scrollback = true): void {
    this.snapshots.snapshot(cb, scrollback);
  }

  /** Prepares the next attach now, at the current end of the queue (the agent has gone quiet). */
  warm(): void {
    this.snapshots.warm();
  }

  /** The screen as text (of what is parsed so far), like `tmux capture-pane -p`. */
  capture(opts: CaptureOptions): CaptureText {
    return capture(this.term, this.history, opts);
  }

  /** Something is drawn on the visible screen (a character that is not a space). */
  hasContent(): boolean {
    return hasContent(this.term);
  }

  /** Visible screen text, lines joined by \n (for `wait --text`). */
  visibleText(): string {
    return visibleText(this.term);
  }

  /** Every line of the active buffer (the archived history too), plain and with colours, its size and cursor (the final screen on disk). */
  finalScreen(): FinalScreenData {
    return finalScreen(this.term, this.history);
  }

  /** Frees the terminal (tests compare mirrors and dispose of them). */
  dispose(): void {
    this.letGo();
    this.term.dispose();
  }

  /**
   * Stops its timers only, for a mirror that is simply dropped: the next collection frees
   * it. xterm's dispose walks every line, and in a copy of the standby writes to pages it
   * shares with the standby: the rehearsal's mirror took a copy 2.4 ms and 150 page copies.
   */
  letGo(): void {
    this.queue.dispose();
    this.history.dispose();
  }
}
