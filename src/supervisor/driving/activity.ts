import type { Terminal } from '@xterm/headless';

// Is the agent working or waiting? Quiet output for the threshold is the baseline. Where
// the agent says more, we listen: a bell, an OSC 133 prompt mark (A or B) or an OSC 9 /
// OSC 777 notification in the latest output chunk marks it idle as soon as output pauses
// briefly, instead of after the whole threshold. Any later output cancels the signal.

/** Output must pause this long after an explicit "waiting" signal to count as idle. */
export const SIGNAL_SETTLE_MS = 150;

export class Activity {
  lastOutputAt = 0;
  /** Chunk number holding the last "waiting for input" signal (0: none). */
  private signalSeq = 0;
  private readonly startedAt = Date.now();

  /**
   * @param parsingSeq the number of the chunk xterm is parsing now
   * @param latestSeq the number of the last chunk received
   */
  constructor(
    term: Terminal,
    readonly idleMs: number,
    private readonly parsingSeq: () => number,
    private readonly latestSeq: () => number,
  ) {
    const signal = () => {
      this.signalSeq = this.parsingSeq();
    };
    term.onBell(signal);
    term.parser.registerOscHandler(133, (data) => {
      if (data.startsWith('A') || data.startsWith('B')) signal();
      return false;
    });
    term.parser.registerOscHandler(9, () => (signal(), false));
    term.parser.registerOscHandler(777, () => (signal(), false));
  }

  output(): void {
    this.lastOutputAt = Date.now();
  }

  /** Milliseconds the output has been quiet. */
  quietFor(now = Date.now()): number {
    return now - Math.max(this.lastOutputAt, this.startedAt);
  }

  private signalled(): boolean {
    return this.signalSeq > 0 && this.signalSeq === this.latestSeq();
  }

  /** `thresholdMs` overrides the session's idle time (`wait --idle N`). */
  isIdle(thresholdMs = this.idleMs, now = Date.now()): boolean {
    const quiet = this.quietFor(now);
    return quiet >= thresholdMs || (this.signalled() && quiet >= SIGNAL_SETTLE_MS);
  }

  /** How long until the state may turn idle if nothing else happens. */
  msUntilIdle(thresholdMs = this.idleMs, now = Date.now()): number {
    const quiet = this.quietFor(now);
    const byQuiet = thresholdMs - quiet;
    const bySignal = this.signalled() ? SIGNAL_SETTLE_MS - quiet : byQuiet;
    return Math.max(0, Math.min(byQuiet, bySignal));
  }
}
