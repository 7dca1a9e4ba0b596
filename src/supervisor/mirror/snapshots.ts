import type { Terminal } from '@xterm/headless';
import type { HistoryKeeper } from './history-keeper';
import type { KeyModeTracker } from './key-modes';
import type { ModeTracker } from './modes';
import type { Chunk, ParseQueue } from './parse-queue';
import type { LazySerializer } from './serializer';

// Snapshots: the screen serialized at a point of the parse queue, "the screen after chunk
// N", with the chunks received after N to send right after it. The history comes from the
// chunks serialized in advance (history-keeper.ts); only the rest is serialized at the
// request, and an unchanged screen reuses the last one.

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

type Serialized = Omit<ScreenSnapshot, 'after'>;

/**
 * A prepared rest larger than this is not kept: the chunks could not be made (a line
 * wrapped up to the screen) and the rest is most of the buffer, held twice. ~25 KB is usual.
 */
const PREPARED_MAX_BYTES = 256 * 1024;

/** What the history's chunks lack (about one chunk and the screen), serialized in advance. */
interface PreparedRest {
  /** The state it was made in: the parse queue's chunk, the size, the first line no chunk holds. */
  seq: number;
  sizeVersion: number;
  next: number;
  bytes: Buffer;
}

export class Snapshots {
  private waiters: Array<{ cb: (s: ScreenSnapshot) => void; scrollback: boolean }> = [];
  private queued = false;
  private cached: Serialized | null = null;
  /** Counts resizes: a snapshot made at another size (the same chunk number) is not reused. */
  private sizeVersion = 0;
  private cachedSizeVersion = -1;
  private prepared: PreparedRest | null = null;

  constructor(
    private readonly term: Terminal,
    private readonly queue: ParseQueue,
    private readonly history: HistoryKeeper,
    private readonly serializer: LazySerializer,
    private readonly modes: ModeTracker,
    private readonly keyModes: KeyModeTracker,
  ) {}

  /**
   * Calls `cb` with a snapshot at the current end of the parse queue. Requests that
   * arrive together share one serialization; an unchanged screen reuses the last one.
   * Without scrollback it is the visible screen only: cheap and small, for resyncing a
   * viewer that fell behind (tmux redraws just the screen too).
   */
  snapshot(cb: (s: ScreenSnapshot) => void, scrollback: boolean): void {
    this.waiters.push({ cb, scrollback });
    if (this.queued) return;
    this.queued = true;
    this.queue.mark(() => {
      this.queued = false;
      const waiters = this.waiters;
      this.waiters = [];
      const after = this.queue.queuedChunks();
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
   * this when the agent has gone quiet. The history's chunks are made (history-cache.ts),
   * and the rest, about one chunk and the screen, is serialized and kept while nothing
   * changes (~25 KB for 120 columns). Serialized at the attach instead, that rest was most
   * of a first attach's wait: 30 ms of 47 before the first line of 5 000 (CPU profile),
   * cold code included. A plain history is chunked without the serializer: preparing
   * loads it (serializer.ts) at the first quiet moment instead of at the first attach.
   * Keeping the whole snapshot would hold the history twice (1.3 MB more for 10 000
   * coloured lines of 120 columns).
   */
  warm(): void {
    this.queue.mark(() => {
      this.history.catchUp();
      this.prepared = null;
      const { next } = this.history.prefix();
      const bytes = Buffer.from(this.serializeRest(next), 'utf8');
      if (bytes.length <= PREPARED_MAX_BYTES) this.prepared = { seq: this.queue.parsedSeq, sizeVersion: this.sizeVersion, next, bytes };
    });
  }

  /** The terminal was resized: the last snapshot is stale even at the same chunk. */
  resized(): void {
    this.sizeVersion++;
  }

  private serializeNow(): Serialized {
    const c = this.cached;
    if (c && c.seq === this.queue.parsedSeq && this.cachedSizeVersion === this.sizeVersion) return c;
    // The history in chunks (archived or made in advance), then the rest from the first line
    // they lack: prepared at the last quiet moment if nothing changed since.
    const { parts, next } = this.history.prefix();
    const p = this.prepared;
    const fresh = p !== null && p.seq === this.queue.parsedSeq && p.sizeVersion === this.sizeVersion && p.next === next;
    if (!fresh) this.prepared = null;
    const snap = this.serialized(parts, fresh ? p.bytes : Buffer.from(this.serializeRest(next), 'utf8'));
    // Kept for the next request at the same point only while small: a long history is in
    // the chunks already, and a copy of it would double it.
    this.cached = parts.length === 0 ? snap : null;
    this.cachedSizeVersion = this.sizeVersion;
    return snap;
  }

  /** The lines from `next` (the first no history chunk holds) to the end, and the screen. */
  private serializeRest(next: number): string {
    const serializer = this.serializer.get();
    return next === 0 ? serializer.serialize() : serializer.serialize({ scrollback: Math.max(0, this.term.buffer.normal.length - this.term.rows - next) });
  }

  private serializeVisible(): Serialized {
    return this.serialized([], Buffer.from(this.serializer.get().serialize({ scrollback: 0 }), 'utf8'));
  }

  /** The keyboard modes around the screen: the main screen's before it, the rest after. */
  private serialized(history: Buffer[], screen: Buffer): Serialized {
    const head = Buffer.from(this.keyModes.head(), 'utf8');
    const tail = Buffer.from(this.modes.tail() + this.keyModes.tail(), 'utf8');
    const bytes = Buffer.concat([head, ...history, screen, tail]);
    return { seq: this.queue.parsedSeq, cols: this.term.cols, rows: this.term.rows, bytes, leave: this.keyModes.leave() };
  }
}
