import type { SymposiumClient } from '../client/client';
import { screenFromCapture } from './capture-screen';
import type { BrowserFlow } from './flow';
import type { ViewMode } from './messages';

// One browser's view of one agent (what a page opened), whatever shows it: a live attach
// (live-view.ts) or captures (capture-view.ts).

export interface View {
  readonly mode: ViewMode;
  readonly typing: boolean;
  start(): Promise<void>;
  /** The browser has caught up after falling behind: send it a fresh screen. */
  refresh(): void;
  dispose(): void;
}

export interface ViewHost {
  client: SymposiumClient;
  flow: BrowserFlow;
  /** Numbers this view in what is sent for it. */
  v: number;
  id: string;
  /** The stream ended on its own (the agent exited, or the connection was lost). */
  ended(end: { code: number | null; signal: string | null; message: string | null }): void;
  /** The stream could not start (the agent ended meanwhile, or its supervisor is gone). */
  failed(err: Error): void;
}

/** The agent's screen as it is now (it has ended: its last), as a `screen`. */
export async function sendCapture(host: ViewHost): Promise<void> {
  const c = await host.client.capture(host.id, { ansi: true });
  host.flow.screen({ t: 'screen', v: host.v, d: screenFromCapture(c), cols: c.cols, rows: c.rows });
}

