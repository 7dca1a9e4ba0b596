import type { Terminal } from '@xterm/headless';
import { Flood, type RateMeter } from '../flood';
import type { FloodSkip } from './flood-skip';
import type { HistoryKeeper } from './history-keeper';
import type { KeyModeTracker } from './key-modes';

// The way from the agent's output to xterm's parser. Every output chunk gets a sequence
// number and waits in our own queue; xterm gets at most the history keeper's feedBytes at a
// time. A marker in the queue (a snapshot, a flush) runs when xterm has parsed exactly the
// chunks before it ("the screen after chunk N"), and the chunks after N are still queued
// here for joining. Keeping the backlog on our side also lets a plain-text flood be
// batched and its start skipped (flood-skip.ts). This is the per-chunk path: nothing in it
// allocates or makes a closure per chunk beyond the chunk's own entry.

export interface Chunk {
  seq: number;
  data: Buffer;
}

type Marker = { marker: () => void };
type Queued = Chunk | Marker;

export class ParseQueue {
  /** Last chunk received / last chunk parsed. */
  seq = 0;
  parsedSeq = 0;
  /** Bytes received and not yet parsed: what flow control looks at. */
  unparsedBytes = 0;
  /** Received, not yet handed to xterm (chunks and markers, in order). */
  private queue: Queued[] = [];
  /** Handed to xterm, not yet parsed. */
  private inflight: Chunk[] = [];
  private inflightBytes = 0;
  /** Bytes received so far. */
  private receivedBytes = 0;
  /** Flood detection and batching (see holdForBatch). */
  private markers = 0;
  private batchTimer: NodeJS.Timeout | null = null;
  private batchReleased = false;
  /** The last chunk received when the batch was released: later ones wait for the next. */
  private releasedUpTo = 0;
  /** Called after each chunk is parsed (flow control, waiters). */
  onParsed: () => void = () => {};
  /** Called after chunk `seq` changed the keyboard modes, with what now undoes them. */
  onKeyModes: (seq: number, leave: string) => void = () => {};

  constructor(
    private readonly term: Terminal,
    /** The arrival rate: tells a flood from interactive output. */
    private readonly rate: RateMeter,
    private readonly history: HistoryKeeper,
    private readonly skip: FloodSkip,
    private readonly keyModes: KeyModeTracker,
  ) {}

  /** The number of the chunk xterm is parsing now. */
  get parsingSeq(): number {
    return this.parsedSeq + 1;
  }

  /** Queues one output chunk; returns its sequence number. */
  write(data: Buffer): number {
    const seq = ++this.seq;
    this.history.outputArrived();
    this.queue.push({ seq, data });
    this.unparsedBytes += data.length;
    this.receivedBytes += data.length;
    this.rate.record(data.length);
    this.pump();
    return seq;
  }

  /** Runs `fn` once everything queued before it is parsed, before anything after it. */
  mark(fn: () => void): void {
    this.markers++;
    this.queue.push({
      marker: () => {
        this.markers--;
        fn();
      },
    });
    this.pump();
  }

  /** Resolves once everything written so far is parsed. */
  flush(): Promise<void> {
    return new Promise((resolve) => this.mark(resolve));
  }

  /** The chunks still queued (inside a marker: those received after its point). */
  queuedChunks(): Chunk[] {
    return this.queue.filter((q): q is Chunk => !('marker' in q));
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
    if (!this.skip.enabled || this.markers > 0 || this.batchReleased || !this.rate.lastWindowFlooded) return false;
    if (this.unparsedBytes >= Flood.FloodBatchBytes) {
      // Much waits already: skip what would scroll away and hold on. Only a backlog that
      // cannot be skipped (not plain) is parsed before the batch ends.
      if (this.inflight.length === 0 && this.skip.mayTry(this.receivedBytes)) this.fastForward();
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

  /** The terminal goes: a pending batch's timer must not parse into it. */
  dispose(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
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
      if (this.inflightBytes >= this.history.feedBytes()) return;
      if (this.batchReleased && head.seq > this.releasedUpTo) this.batchReleased = false;
      if (this.holdForBatch()) return;
      if (this.skip.due(this.unparsedBytes, this.receivedBytes)) {
        // Let xterm drain first: the cut is only safe from its ground state.
        if (this.inflight.length > 0) return;
        // Inside a sequence split between chunks (coloured output often is): one more
        // chunk first, then try again.
        if (!this.fastForward()) this.skip.holdUntilFed();
        continue;
      }
      this.skip.fed();
      const chunk = this.queue.shift() as Chunk;
      this.inflight.push(chunk);
      this.inflightBytes += chunk.data.length;
      this.history.feeding(chunk.data);
      this.term.write(chunk.data, this.parsedOne);
    }
  }

  /** xterm parsed the oldest chunk in flight (one callback for every chunk: none made per chunk). */
  private readonly parsedOne = (): void => {
    this.history.parsed();
    const done = this.inflight.shift();
    if (done) {
      this.inflightBytes -= done.data.length;
      this.unparsedBytes -= done.data.length;
      this.parsedSeq = done.seq;
      if (this.keyModes.takeChanged()) this.onKeyModes(done.seq, this.keyModes.leave());
    }
    this.history.afterParse();
    this.onParsed();
    this.pump();
  };

  /**
   * Skips the start of a flood that would scroll out of the buffer anyway; false when the
   * parser is inside a sequence and nothing could be tried.
   */
  private fastForward(): boolean {
    const data: Buffer[] = [];
    for (const q of this.queue) {
      if ('marker' in q) break; // never skip past a snapshot point
      data.push(q.data);
    }
    const plan = this.skip.plan(data, this.receivedBytes);
    if (plan === null) return false;
    const { bytes, replay } = plan;
    if (bytes === 0) return true;
    let skip = bytes;
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
}
