import type { Terminal } from '@xterm/headless';
import type { HistoryKeeper } from './history-keeper';
import type { KeyModeTracker } from './key-modes';
import type { ModeTracker } from './modes';
import type { Chunk, ParseQueue } from './parse-queue';
import type { LazySerializer } from './serializer';

// Snapshots: the screen serialized at a point of the parse queue, "the screen after chunk
// N", with the chunks received after N to send right after it. The history comes from the
// chunks serialized in advance (history-keeper.ts); only the rest is serialized, at the
// request or at the last quiet moment, and kept while nothing changes.

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
 * A rest larger than this is not kept: the chunks could not be made (a line wrapped up to
 * the screen, a flood being skipped) and the rest is most of the buffer, held twice. ~25 KB
 * is usual with a long history, a small one's whole screen and history less.
 */
const KEPT_REST_MAX_BYTES = 256 * 1024;

/** What the history's chunks lack (about one chunk and the screen), as last serialized. */
interface KeptRest {
  /** The state it was made in: the parse queue's chunk, the size, the first line no chunk holds. */
  seq: number;
  sizeVersion: number;
  next: number;
  bytes: Buffer;
}

export class Snapshots {
  private waiters: Array<{ cb: (s: ScreenSnapshot) => void; scrollback: boolean }> = [];
  private queued = false;
  /** Counts resizes: a snapshot made at another size (the same chunk number) is not reused. */
  private sizeVersion = 0;
  /** Made at the last quiet moment (warm) or by the last snapshot; used only in the state it was made in. */
  private rest: KeptRest | null = null;

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
      this.restFrom(this.history.prefixNext());
    });
  }

  /** The terminal was resized: the last snapshot is stale even at the same chunk. */
  resized(): void {
    this.sizeVersion++;
  }

  private serializeNow(): Serialized {
    // The history in chunks (archived or made in advance), then the rest from the first line they lack.
    const { parts, next } = this.history.prefix();
    return this.serialized(parts, this.restFrom(next));
  }

  /**
   * The lines from `next` (the first no history chunk holds) to the end, and the screen:
   * the kept one if made in this very state (the chunk parsed, the size, `next`), else
   * serialized now and kept (when small). A chunk parsed or a resize changes the key;
   * nothing else writes to the terminal.
   */
  private restFrom(next: number): Buffer {
    const k = this.rest;
    if (k && k.seq === this.queue.parsedSeq && k.sizeVersion === this.sizeVersion && k.next === next) return k.bytes;
    const serializer = this.serializer.get();
    let text: string;
    if (next === 0) text = serializer.serialize();
    else {
      // The history's lines in a chunk's form (plain rows without the serializer), then the
      // screen: the serializer is the slow part of an attach right after the output, before
      // the quiet moment. Measured on 5 000 plain lines (the rest ~100 lines and a 40-row
      // screen): ~45 ms of the supervisor's CPU in it when all went through the serializer.
      // The serializer takes one line of history with the screen: given none, it leaves out
      // the screen's blank rows at the bottom, as for a terminal without history.
      const top = this.term.buffer.normal.length - this.term.rows;
      const lines = top - 1 > next ? this.history.restText(next, top - 1) : null;
      text = lines === null ? serializer.serialize({ scrollback: Math.max(0, top - next) }) : lines + serializer.serialize({ scrollback: 1 });
    }
    const bytes = Buffer.from(text, 'utf8');
    this.rest = bytes.length <= KEPT_REST_MAX_BYTES ? { seq: this.queue.parsedSeq, sizeVersion: this.sizeVersion, next, bytes } : null;
    return bytes;
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
