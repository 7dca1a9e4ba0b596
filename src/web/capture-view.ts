import { screenFromCapture } from './capture-screen';
import { WebLimits } from './limits';
import type { View, ViewHost } from './view';

// What has no stream, shown as captures: tmux sessions (a capture every CapturePollMs, sent
// when it changed and the page has parsed the last one) and agents that have ended (their
// last screen, once).

export class CaptureView implements View {
  readonly typing = false;
  private timer: NodeJS.Timeout | null = null;
  private last = '';
  private disposed = false;

  constructor(
    private readonly host: ViewHost,
    /** captures: every CapturePollMs while it runs; final: its last screen, once. */
    readonly mode: 'captures' | 'final',
  ) {}

  async start(): Promise<void> {
    await this.poll();
  }

  refresh(): void {
    this.last = '';
    if (this.mode === 'final') void this.once();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async once(): Promise<boolean> {
    const c = await this.host.client.capture(this.host.id, { ansi: true });
    if (this.disposed) return true;
    const d = screenFromCapture(c);
    if (d !== this.last) {
      this.last = d;
      this.host.flow.screen({ t: 'screen', v: this.host.v, d, cols: c.cols, rows: c.rows });
    }
    return c.final;
  }

  private async poll(): Promise<void> {
    let ended = this.mode === 'final';
    try {
      // A browser still parsing the last capture gets the next one later, not a pile.
      if (this.host.flow.caughtUp || this.last === '') ended = (await this.once()) || ended;
    } catch (err) {
      if (!this.disposed) this.host.failed(err as Error);
      return;
    }
    if (this.disposed) return;
    if (ended) {
      if (this.mode === 'captures') this.host.ended({ code: null, signal: null, message: null });
      return;
    }
    this.timer = setTimeout(() => void this.poll(), WebLimits.CapturePollMs);
  }
}
