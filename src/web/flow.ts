import { WebLimits } from './limits';
import type { PageMessage } from './messages';

// Flow control for one browser. The page acknowledges the characters xterm.js has parsed
// (in its write callbacks, not on receipt). Output goes out while fewer than
// UnackedChars are unacknowledged; past that the browser is behind: its output is
// dropped (the agent and the other viewers never wait for it) until it has parsed all it
// was sent, then it is given one fresh screen instead of the backlog (at most every
// ResyncGapMs). Counting is in UTF-16 code units on both sides (String.length).

export interface FlowStats {
  sentChars: number;
  droppedChars: number;
  resyncs: number;
  /** The longest any screen took to get, in ms. */
  slowestScreenMs: number;
}

export type FlowLimits = { [K in 'UnackedChars' | 'ResyncGapMs' | 'ResyncCalmMs' | 'ResyncMaxWaitMs' | 'ResyncCostFactor']: number };

export class BrowserFlow {
  private sent = 0;
  private acked = 0;
  private behind = false;
  private resyncTimer: NodeJS.Timeout | null = null;
  private resyncPending = false;
  /** When the last screen (the first replay, or a fresh one) went out. */
  private lastScreenAt = -Infinity;
  /** How long the last screen took to make (asked for to sent): what it cost the supervisor, about. */
  private lastScreenCostMs = 0;
  /** The last output of the view, sent or dropped. */
  private lastOutputAt = -Infinity;
  readonly stats: FlowStats = { sentChars: 0, droppedChars: 0, resyncs: 0, slowestScreenMs: 0 };

  constructor(
    private readonly send: (m: PageMessage) => void,
    /** Asked for a fresh screen: the view sends one through screen(). */
    private readonly wantScreen: () => void,
    private readonly limits: FlowLimits = WebLimits,
  ) {}

  /** Nothing is waiting to be parsed by the page. */
  get caughtUp(): boolean {
    return this.acked === this.sent;
  }

  get isBehind(): boolean {
    return this.behind;
  }

  /** Live output of the view. */
  output(d: string): void {
    if (d.length === 0) return;
    this.lastOutputAt = Date.now();
    if (!this.behind && this.sent - this.acked > this.limits.UnackedChars) this.behind = true;
    if (this.behind) {
      this.stats.droppedChars += d.length;
      return;
    }
    this.count(d);
    this.send({ t: 'o', d });
  }

  /**
   * A whole screen, sent even to a browser that is behind (it replaces what was dropped);
   * `costMs`: how long it took to get.
   */
  screen(m: Extract<PageMessage, { t: 'screen' }>, costMs = 0): void {
    this.cancelResync();
    this.behind = false;
    this.lastScreenAt = Date.now();
    this.lastScreenCostMs = costMs;
    this.stats.slowestScreenMs = Math.max(this.stats.slowestScreenMs, costMs);
    this.count(m.d);
    this.send(m);
  }

  /** A non-data message in order with the data (sizes, the end). */
  control(m: PageMessage): void {
    this.send(m);
  }

  /** The page's acknowledgement; false when it is not a count we could have sent. */
  ack(n: number): boolean {
    if (n < this.acked || n > this.sent) return false;
    this.acked = n;
    if (this.behind && this.caughtUp && !this.resyncPending) this.scheduleResync();
    return true;
  }

  /** The page opened another view: a resync asked for the old one is void. */
  viewChanged(): void {
    this.cancelResync();
    this.behind = false;
  }

  dispose(): void {
    this.cancelResync();
  }

  private count(d: string): void {
    this.sent += d.length;
    this.stats.sentChars += d.length;
  }

  /**
   * A fresh screen once the output pauses (the flood is over) or, while it goes on, once
   * MaxWait has passed since the last screen (longer when screens cost more: CostFactor
   * times what the last one took), and never sooner than Gap after it: each one is a new
   * attach, whose replay the supervisor makes while the agent waits.
   */
  private scheduleResync(): void {
    this.resyncPending = true;
    const check = () => {
      this.resyncTimer = null;
      const now = Date.now();
      const sinceScreen = now - this.lastScreenAt;
      const quiet = now - this.lastOutputAt;
      const maxWait = Math.max(this.limits.ResyncMaxWaitMs, this.limits.ResyncCostFactor * this.lastScreenCostMs);
      const wait = Math.max(this.limits.ResyncGapMs - sinceScreen, Math.min(this.limits.ResyncCalmMs - quiet, maxWait - sinceScreen));
      if (wait > 0) {
        this.resyncTimer = setTimeout(check, wait);
        return;
      }
      this.stats.resyncs++;
      this.wantScreen();
    };
    check();
  }

  private cancelResync(): void {
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = null;
    this.resyncPending = false;
  }
}
