// The output's timing, which the state (agent-state.ts) reads: when the agent last wrote,
// and whether it has drawn anything on its screen yet.

export class Activity {
  lastOutputAt = 0;
  /** The agent has drawn something (its screen is not blank). */
  private drawn = false;
  private readonly startedAt: number;

  /**
   * @param idleMs the session's idle time
   * @param now the clock (tests give a fake one)
   */
  constructor(
    readonly idleMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
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

  /** Milliseconds the output has been quiet (since the start when there was none). */
  quietFor(now = this.now()): number {
    return now - Math.max(this.lastOutputAt, this.startedAt);
  }
}
