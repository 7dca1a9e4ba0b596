import type { SerializeAddon } from '@xterm/addon-serialize';
import type { Terminal } from '@xterm/headless';
import { Flood, type RateMeter } from '../flood';
import { linesIn } from './fast-forward';
import { HistoryArchive } from './history-archive';
import { HistoryCache } from './history-cache';
import { ARCHIVING_FEED_BYTES, BYTES_PER_CELL, FLOOD_SKIP_QUIET_MS, HISTORY_BUSY_MS, HISTORY_CHUNK_LINES, SCROLLBACK_GROW_LINES } from './history-tuning';
import { LineNumbers } from './line-numbers';
import { maxScrolls } from './scroll-bound';
import { scrollRegion, setScrollback } from './xterm-internals';

// The normal screen's history, kept in step with the parse. xterm keeps the newest lines
// live (its scrollback, `liveLines` once things are calm); older ones are serialized in
// chunks (history-cache.ts) that move to the archive (history-archive.ts) as their lines
// leave xterm. No line may leave xterm unserialized while the history still promises it:
// this decides how much xterm is fed at a time, how far its scrollback grows meanwhile,
// and when chunks are made (as lines are parsed, soon after, or when the agent goes
// quiet); and what a reset, an erase of the history, a skipped flood and a resize do.

export interface HistorySize {
  /** The history's bound in lines, and in bytes of xterm's cells. */
  scrollbackLines: number;
  scrollbackBytes: number;
  /** Lines of history xterm keeps live. */
  liveLines: number;
  /** Lines per chunk serialized in advance, and the history that waits for. */
  chunkLines: number;
  minLines: number;
}

/** The history promised at `cols` columns, in lines: the lines bound, or less for the bytes bound (100 at least). */
export function historyBound(size: HistorySize, cols: number): number {
  return Math.max(100, Math.min(size.scrollbackLines, Math.floor(size.scrollbackBytes / (cols * BYTES_PER_CELL))));
}

export class HistoryKeeper {
  readonly numbers: LineNumbers;
  /** The history that left xterm's buffer. */
  readonly archive = new HistoryArchive();
  /** The history still in xterm, serialized in advance, one chunk per turn of `timer`. */
  private readonly cache: HistoryCache;
  private timer: NodeJS.Timeout | null = null;
  /** Lines the chunks handed to xterm and not yet parsed can scroll at most (scroll-bound.ts). */
  private inflightScrolls = 0;
  private readonly inflightScrollCounts: number[] = [];
  /** When a fast-forward last skipped output (performance.now()). */
  private lastSkipAt = -Infinity;
  /** The absolute number of the parsed lines' end when the output last paused (the start of a burst). */
  private calmAtLine = 0;
  /** When the last chunk of output arrived (performance.now()). */
  private lastWriteAt = 0;

  constructor(
    private readonly term: Terminal,
    /** The output's arrival rate (the parse queue's meter). */
    private readonly rate: RateMeter,
    private readonly size: HistorySize,
    serializer: () => SerializeAddon,
  ) {
    this.numbers = new LineNumbers(term);
    // Lines leave xterm past the live window: chunks are made from there on at the latest.
    this.cache = new HistoryCache(term, serializer, this.archive, () => this.numbers.trimmed, size.chunkLines, Math.min(size.minLines, size.liveLines));
    // A reset (RIS) replaces xterm's buffers: the history, and the screen as tmux does, go to
    // the archive first. An erase of the history (ED 3) empties the archive too.
    term.parser.registerEscHandler({ final: 'c' }, () => {
      this.beforeReset();
      return false;
    });
    for (const prefix of [undefined, '?'] as const) {
      term.parser.registerCsiHandler({ prefix, final: 'J' }, (params) => {
        if (params[0] === 3 && term.buffer.active.type === 'normal') {
          this.cache.clear();
          this.archive.clear();
        }
        return false;
      });
    }
  }

  /** The history promised (lines, the bytes bound included) at this width. */
  limit(cols = this.term.cols): number {
    return historyBound(this.size, cols);
  }

  /** Lines of history there are: archived, then in xterm's buffer (the screen included). */
  get lines(): number {
    return this.numbers.trimmed + this.term.buffer.normal.length - (this.archive.first ?? this.numbers.trimmed);
  }

  /** Chunks whose lines left xterm go to the archive; the archive keeps the history's bound. */
  sync(): void {
    this.numbers.watch();
    this.cache.moveLeft();
    this.archive.keepFrom(this.numbers.trimmed + this.term.buffer.normal.baseY - this.limit());
  }

  /**
   * Output arrived (before it is queued). A pause before it starts a new burst. Not the
   * rate's windows: while lines are serialized as they come this process reads slowly, the
   * rate it sees stays under a flood's, and a flood would be serialized line by line to its
   * end, the pump never called in (a 32 MB flood: the pump carried 5.7 MB instead of all
   * but the start).
   */
  outputArrived(): void {
    const now = performance.now();
    if (now - this.lastWriteAt >= HISTORY_BUSY_MS) this.calmAtLine = this.numbers.trimmed + this.term.buffer.normal.baseY;
    this.lastWriteAt = now;
  }

  /** Bytes xterm may have in flight: fewer while lines may be serialized as they come (the history is longer than the live window). */
  feedBytes(): number {
    return this.size.liveLines < this.limit() && this.archivingAllowed() ? ARCHIVING_FEED_BYTES : Flood.FeedBytes;
  }

  /** `data` is handed to xterm now: the lines it may push out wait in xterm until serialized. */
  feeding(data: Uint8Array): void {
    const scrolls = maxScrolls(data, this.term.cols);
    this.inflightScrollCounts.push(scrolls);
    this.inflightScrolls += scrolls;
    this.keepUnmade();
  }

  /** xterm parsed the oldest chunk in flight. */
  parsed(): void {
    this.numbers.watch();
    this.inflightScrolls -= this.inflightScrollCounts.shift() ?? 0;
  }

  /** After a parsed chunk: the lines it pushed into the history are serialized now, soon, or later. */
  afterParse(): void {
    if (this.archivingAsParsed()) {
      // More than the live window waits unserialized (a burst): serialized now, so that xterm
      // does not grow to hold it (its memory would stay taken after: malloc keeps it). Its
      // scrollback is not shrunk here: a full buffer recycles the lines it drops, a shrunk
      // one allocates new ones, and the old ones wait for a major GC (13 MB of them once).
      this.cache.extend();
      this.sync();
    } else if (!this.timer && !this.rate.lastWindowFlooded && this.cache.behind()) this.soon(0);
  }

  /**
   * A fast-forward skips the first `bytes` of `data`: the lines they make would have entered
   * the history and left it, so their numbers count. (Only the normal screen scrolling from
   * its top row feeds the history; what is skipped is plain text, so neither changes during
   * the skip.)
   */
  skipped(data: readonly Buffer[], bytes: number): void {
    this.lastSkipAt = performance.now();
    if (this.term.buffer.active.type !== 'normal' || (scrollRegion(this.term)?.top ?? 0) !== 0) return;
    // Counted from the cursor's column: the parse stopped where a chunk ended, often
    // inside a line, and the rest of that line counted from column 0 wrapped one time
    // fewer (numbers one line behind a full parse's; fast-forward.ts's linesIn).
    this.numbers.trimmed += linesIn(data, bytes, this.term.cols, this.term.buffer.normal.cursorX);
    // What follows the cut fills the whole history: every older line goes.
    this.cache.clear();
    this.archive.clear();
  }

  /**
   * The chunks that hold the history from its first line on, every one that can be made
   * now included, and the index in xterm's buffer of the first line they do not hold (0:
   * none): a snapshot serializes only the rest.
   */
  prefix(): { parts: Buffer[]; next: number } {
    const next = this.prefixNext();
    return { parts: this.cache.parts(), next };
  }

  /** What `prefix()` gives as `next`, without the chunks: the archive's are not inflated for it. */
  prefixNext(): number {
    this.sync();
    this.cache.extend();
    this.cache.moveLeft();
    return this.cache.firstUnmade();
  }

  /** The lines `from` to before `serializedFrom` in a chunk's form, or null (history-cache.ts, restText). */
  restText(from: number, serializedFrom: number): string | null {
    return this.cache.restText(from, serializedFrom);
  }

  /** The agent went quiet: every chunk that can be made is made, and xterm goes back to its live window. */
  catchUp(): void {
    this.cache.extend();
    this.fitScrollback();
  }

  /**
   * Resizes xterm: the live lines are reflowed to the new width; the archived ones stay as
   * they were (as tmux, whose history is not reflowed either... see docs).
   */
  resize(cols: number, rows: number): void {
    this.sync();
    const buf = this.term.buffer.normal;
    // The archive's newest chunk may still have lines at the top of the buffer: they leave
    // it now, so that the reflow cannot change which lines the archive holds.
    const overlap = (this.archive.next ?? 0) - this.numbers.trimmed;
    if (overlap > 0) setScrollback(this.term, Math.max(0, buf.baseY - overlap));
    this.cache.clear(); // the live history is reflowed
    // Room for the reflow: narrower, a line wraps into several, and none may leave xterm
    // unserialized; fitScrollback shrinks it again once the chunks are made.
    const ratio = Math.ceil(this.term.cols / cols);
    const room = (buf.length + this.inflightScrolls) * ratio + this.term.rows;
    setScrollback(this.term, Math.min(this.limit(cols), Math.max(this.term.options.scrollback!, room)));
    this.term.resize(cols, rows);
    this.sync();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** RIS: every line of the normal buffer up to its last written one goes to the archive (tmux keeps them as history too). */
  private beforeReset(): void {
    this.numbers.watch();
    const buf = this.term.buffer.normal;
    let last = buf.length - 1;
    while (last >= 0 && (buf.getLine(last)?.translateToString(true) ?? '') === '') last--;
    if (last >= 0) this.cache.archiveAll(last);
    this.numbers.resetTo(this.numbers.trimmed + last + 1);
  }

  /** The index of the first line no chunk holds (0 while a reset is under way: the new list has none). */
  private firstUnmade(): number {
    return this.numbers.resetting ? 0 : this.cache.firstUnmade();
  }

  /**
   * Lines no chunk holds yet must not leave xterm: before more output is handed to it, its
   * scrollback grows to keep them, up to the history's bound (past it they would go anyway).
   */
  private keepUnmade(): void {
    const need = this.term.buffer.normal.baseY + this.inflightScrolls - this.firstUnmade();
    const limit = this.limit();
    if (need > this.term.options.scrollback! && this.term.options.scrollback! < limit) {
      setScrollback(this.term, Math.min(limit, need + SCROLLBACK_GROW_LINES));
    }
  }

  /** Lines that enter the history now are serialized as they come, if need be: not in a long flood. */
  private archivingAllowed(): boolean {
    return performance.now() - this.lastSkipAt >= FLOOD_SKIP_QUIET_MS && this.numbers.trimmed + this.term.buffer.normal.baseY - this.calmAtLine <= this.limit();
  }

  /** The history is serialized as it is parsed: more than the live window is unserialized, and no long flood is on. */
  private archivingAsParsed(): boolean {
    return this.archivingAllowed() && this.term.buffer.normal.baseY - this.firstUnmade() > this.size.liveLines && this.cache.behind();
  }

  /** Back to the live window once the lines above it are serialized: xterm drops them, the archive has them. */
  private fitScrollback(): void {
    this.sync();
    const target = Math.max(Math.min(this.size.liveLines, this.limit()), this.term.buffer.normal.baseY + this.inflightScrolls - this.firstUnmade());
    if (this.term.options.scrollback! - target >= HISTORY_CHUNK_LINES || (this.term.options.scrollback! > target && target <= this.size.liveLines)) {
      setScrollback(this.term, target);
      this.sync();
    }
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
  private soon(delayMs: number): void {
    if (this.timer || !this.cache.behind()) return;
    this.timer = setTimeout(() => {
      this.timer = null;
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
      this.cache.extend(1);
      this.sync();
      const took = performance.now() - t0;
      this.soon(t0 - this.lastWriteAt < HISTORY_BUSY_MS ? 3 * took : 0);
    }, delayMs);
    this.timer.unref();
  }
}
