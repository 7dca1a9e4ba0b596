import type { AgentProcess } from '../lifecycle/agent-process';
import type { Screen } from '../mirror/screen';

// What the two policies for the native helper (relay-policy.ts: the key relay;
// flood-pump.ts: the flood pump) share: the supervisor's state they read and how failures
// are backed off. Where a flood ends is ../flood.ts's (Flood.CalmBytesPerSecond).

/** A helper that fails is not tried again for this many ms per failure so far… */
const FAILURE_BACKOFF_MS = 1000;
/** …and after this many failures, never again in this supervisor. */
const MAX_FAILURES = 3;

export interface HelperHost {
  /** The native helper's binary, taken at start (binary.ts takeNativeBinary); null: none. */
  readonly relayBinary: string | null;
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
