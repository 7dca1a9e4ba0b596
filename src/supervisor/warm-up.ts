import type { Activity } from './driving/activity';
import { CalmCollector } from './lifecycle/settle-gc';
import type { Screen } from './mirror/screen';

// What the supervisor does once the agent's output has been quiet for a moment: it
// serializes the screen in advance, so that an attach shows it at once instead of paying
// for the serialization (~30 ms per 1 000 lines of history), and after a burst it
// collects garbage (settle-gc.ts).

/** Quiet output after which the snapshot is prepared in advance. */
const WARM_AFTER_MS = 500;
/** Shorter histories serialize in a few ms anyway; preparing them would only grow the idle heap. */
const WARM_MIN_LINES = 1000;

export interface WarmHost {
  readonly screen: Screen;
  readonly activity: Activity;
  readonly ended: boolean;
  /** Bytes of output the agent wrote so far. */
  readonly bytesIn: number;
}

export class WarmUp {
  private timer: NodeJS.Timeout | null = null;
  private readonly collector = new CalmCollector();

  constructor(private readonly host: WarmHost) {}

  /**
   * Output arrived: the work is done once it has been quiet for WARM_AFTER_MS. One timer,
   * re-armed only when it fires, so a flood costs nothing per chunk.
   */
  soon(): void {
    if (this.timer) return;
    this.timer = setTimeout(this.fire, WARM_AFTER_MS);
  }

  private readonly fire = (): void => {
    const h = this.host;
    const quiet = Date.now() - h.activity.lastOutputAt;
    if (quiet < WARM_AFTER_MS) {
      this.timer = setTimeout(this.fire, WARM_AFTER_MS - quiet);
      return;
    }
    this.timer = null;
    if (h.ended) return;
    if (h.screen.historyLines >= WARM_MIN_LINES) h.screen.warm();
    this.collector.calm(h.bytesIn); // after the warm-up: its garbage too
  };
}
