import { START_GRACE_MS } from '../../start-grace';

// Is the agent working or waiting? Quiet output for the threshold is the baseline. Where
// the agent says more, we listen: a bell, an OSC 133 prompt mark (A or B) or an OSC 9 /
// OSC 777 notification in the latest output chunk marks it idle as soon as output pauses
// briefly, instead of after the whole threshold. Any later output cancels the signal.
// Before the agent has drawn anything on its screen it is not idle at all, unless
// START_GRACE_MS passed since its start (see start-grace.ts).

/** Output must pause this long after an explicit "waiting" signal to count as idle. */
export const SIGNAL_SETTLE_MS = 150;

export class Activity {
  lastOutputAt = 0;
  /** Chunk number holding the last "waiting for input" signal (0: none). */
  private signalSeq = 0;
  /** The agent has drawn something (its screen is not blank). */
  private drawn = false;
  private readonly startedAt: number;

  /**
   * @param latestSeq the number of the last chunk received
   * @param now the clock (tests give a fake one)
   */
  constructor(
    readonly idleMs: number,
    private readonly latestSeq: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Chunk `seq` holds a "waiting for input" signal. */
  waitingSignal(seq: number): void {
    this.signalSeq = seq;
  }

  output(): void {
    this.lastOutputAt = this.now();
  }

  /** The agent's screen shows something: from now on, quiet output can mean idle. */
  drew(): void {
    this.drawn = true;
  }

  get hasDrawn(): boolean {
    return this.drawn;
  }

  /** ms left of the start grace while nothing is drawn (0 once drawn or past it). */
  private graceLeft(now: number): number {
    return this.drawn ? 0 : Math.max(0, this.startedAt + START_GRACE_MS - now);
  }

  /** Milliseconds the output has been quiet. */
  quietFor(now = this.now()): number {
    return now - Math.max(this.lastOutputAt, this.startedAt);
  }

  private signalled(): boolean {
    return this.signalSeq > 0 && this.signalSeq === this.latestSeq();
  }

  /** `thresholdMs` overrides the session's idle time (`wait --idle N`). */
  isIdle(thresholdMs = this.idleMs, now = this.now()): boolean {
    if (this.graceLeft(now) > 0) return false;
    const quiet = this.quietFor(now);
    return quiet >= thresholdMs || (this.signalled() && quiet >= SIGNAL_SETTLE_MS);
  }

  /** How long until the state may turn idle if nothing else happens. */
  msUntilIdle(thresholdMs = this.idleMs, now = this.now()): number {
    const quiet = this.quietFor(now);
    const byQuiet = thresholdMs - quiet;
    const bySignal = this.signalled() ? SIGNAL_SETTLE_MS - quiet : byQuiet;
    return Math.max(0, this.graceLeft(now), Math.min(byQuiet, bySignal));
  }
}
