import type { Terminal } from '@xterm/headless';
import { Flood } from '../flood';
import { type Skip, skippable } from './fast-forward';
import type { HistoryKeeper } from './history-keeper';
import { parserAtGround } from './xterm-internals';

// When the mirror tries to skip the start of a flood (fast-forward.ts says what may be
// skipped), and what a skip changes besides the queue: the history and its line numbers
// (history-keeper.ts). The parse queue (parse-queue.ts) asks, then cuts itself.

export class FloodSkip {
  /** Bytes skipped so far (for tests and the log). */
  skippedBytes = 0;
  /** Bytes received when the next attempt may be made. */
  private nextSkipAt = 0;
  /** The parser was inside a sequence: it is fed a chunk before the next attempt. */
  private waitForFeed = false;

  constructor(
    private readonly term: Terminal,
    private readonly history: HistoryKeeper,
    /** Off only in tests that compare against a full parse. */
    readonly enabled: boolean,
  ) {}

  /** Enough arrived since the last attempt (`received`: bytes received so far). */
  mayTry(received: number): boolean {
    return received >= this.nextSkipAt;
  }

  /** An attempt is due before the next chunk is fed: enough waits unparsed, and enough arrived since the last one. */
  due(unparsed: number, received: number): boolean {
    return this.enabled && !this.waitForFeed && unparsed >= Flood.FastForwardMinBytes && received >= this.nextSkipAt;
  }

  /** The parser was inside a sequence (plan answered null): no attempt before the next chunk is fed. */
  holdUntilFed(): void {
    this.waitForFeed = true;
  }

  /** A chunk was fed to xterm: the parser may be back at its ground state. */
  fed(): void {
    this.waitForFeed = false;
  }

  /**
   * What to skip of `data`, the chunks queued up to the first snapshot point (never past
   * one), taken as one stream: its first `bytes`, `replay` parsed in their place. Null when
   * the parser is inside a sequence (coloured output is often split inside one): nothing
   * could be tried. The history is told of a skip here.
   */
  plan(data: readonly Buffer[], received: number): Skip | null {
    // Only from the parser's ground state: a cut inside an escape sequence would not be plain.
    if (!parserAtGround(this.term)) return null;
    this.nextSkipAt = received + Flood.FastForwardMinBytes;
    // As many lines as the whole history keeps, not only xterm's live window.
    const scrollback = this.history.limit();
    const skip = skippable(data, scrollback + 2 * this.term.rows + 16, scrollback + this.term.rows + 16);
    if (skip.bytes === 0) return skip;
    this.history.skipped(data, skip.bytes);
    this.skippedBytes += skip.bytes - skip.replay.length;
    return skip;
  }
}
