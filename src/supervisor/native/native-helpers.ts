import type { AgentProcess } from '../lifecycle/agent-process';
import type { Screen } from '../mirror/screen';

// What the two policies for the native helper (relay-policy.ts: the key relay;
// flood-pump.ts: the flood pump) share: the supervisor's state they read, where a flood
// ends, and how failures are backed off.

/**
 * Output under this rate (bytes/s) is calm: the key relay may start, the flood pump
 * stops. One figure for both, so they never disagree about whose turn it is. A spinner or
 * a redraw is calm, a flood is not.
 */
export const CALM_RATE = 1024 * 1024;

/** A helper that fails is not tried again for this many ms per failure so far… */
const FAILURE_BACKOFF_MS = 1000;
/** …and after this many failures, never again in this supervisor. */
const MAX_FAILURES = 3;

export interface HelperHost {
  readonly agent: AgentProcess;
  /** Bytes of output the agent wrote so far. */
  readonly bytesIn: number;
  readonly screen: Screen;
  readonly ended: boolean;
}

/** Failures of one kind of helper (crashed, killed, not started), with their back-off. */
export class HelperFailures {
  private count = 0;
  private notBefore = 0;

  /** No more tries in this supervisor. */
  get givenUp(): boolean {
    return this.count >= MAX_FAILURES;
  }

  /** Milliseconds until another try is allowed (0: now). */
  get wait(): number {
    return Math.max(0, this.notBefore - Date.now());
  }

  /** Counts a failure; returns the back-off (ms) before the next try, or null once given up. */
  failed(): number | null {
    this.count++;
    if (this.givenUp) return null;
    const ms = FAILURE_BACKOFF_MS * this.count;
    this.notBefore = Date.now() + ms;
    return ms;
  }

  get times(): number {
    return this.count;
  }
}
