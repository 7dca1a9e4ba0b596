import type { SymposiumClient } from '../client/client';
import type { AgentInfo, Disposable } from '../client/types';
import { agentState } from './agent-state';
import { WebLimits } from './limits';
import type { AgentRow, PageMessage } from './messages';

// The list of agents with their live states, for every open page: read with the client
// library every ListPollMs while at least one page listens (nothing runs while none
// does), and pushed only when something changed. Each row carries the last line of the
// agent's screen, captured again only when the agent has written since (or every
// PreviewRefreshMs where the backend does not say when it last wrote).

export type AgentsMessage = Extract<PageMessage, { t: 'agents' }>;

function lastLine(text: string): string | null {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (l !== '') return l.slice(0, WebLimits.PreviewChars);
  }
  return null;
}

function row(a: AgentInfo, preview: string | null): AgentRow {
  return {
    id: a.id,
    sessionName: a.sessionName,
    backend: a.backend,
    status: a.status,
    state: agentState(a),
    reason: a.reason,
    exitCode: a.exitCode,
    exitSignal: a.exitSignal,
    command: a.command.join(' '),
    workdir: a.workdir,
    lastOutputAt: a.lastOutputAt,
    queued: a.queued,
    cols: a.cols,
    rows: a.rows,
    viewers: a.viewers,
    preview,
  };
}

export class AgentsFeed {
  private readonly listeners = new Set<(m: AgentsMessage) => void>();
  private latestMessage: AgentsMessage | null = null;
  private latestKey = '';
  private readonly previews = new Map<string, { key: string; at: number; text: string | null }>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly client: SymposiumClient,
    private readonly pollMs: number = WebLimits.ListPollMs,
  ) {}

  /** Calls `fn` with the list now (if read already) and whenever it changes. */
  subscribe(fn: (m: AgentsMessage) => void): Disposable {
    this.listeners.add(fn);
    // The ages on the page count from `now`: a list read earlier is handed over as of now.
    if (this.latestMessage) fn({ ...this.latestMessage, now: new Date().toISOString() });
    if (this.listeners.size === 1) void this.poll();
    return {
      dispose: () => {
        this.listeners.delete(fn);
        if (this.listeners.size === 0 && this.timer) {
          clearTimeout(this.timer);
          this.timer = null;
        }
      },
    };
  }

  /** The rows as last read, reading them first if never read (or `fresh`). */
  async rows(fresh = false): Promise<AgentRow[]> {
    if (fresh || !this.latestMessage) await this.poll();
    return this.latestMessage?.agents ?? [];
  }

  /** Reads the list now (something was just changed from a page). */
  pollSoon(): void {
    void this.poll();
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private poll(): Promise<void> {
    // One read at a time; a caller during a read waits for that one.
    this.polling ??= this.read().finally(() => {
      this.polling = null;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      if (!this.closed && this.listeners.size > 0) this.timer = setTimeout(() => void this.poll(), this.pollMs);
    });
    return this.polling;
  }

  private async read(): Promise<void> {
    const warnings: string[] = [];
    let agents: AgentInfo[];
    try {
      agents = await this.client.list({ onWarning: (w) => warnings.push(w) });
    } catch (err) {
      warnings.push(`the list could not be read: ${(err as Error).message}`);
      agents = [];
    }
    const rows = await Promise.all(agents.map(async (a) => row(a, await this.preview(a))));
    for (const id of this.previews.keys()) if (!agents.some((a) => a.id === id)) this.previews.delete(id);
    const key = JSON.stringify([rows, warnings]);
    if (this.closed || key === this.latestKey) return;
    this.latestKey = key;
    this.latestMessage = { t: 'agents', now: new Date().toISOString(), agents: rows, warnings };
    for (const fn of this.listeners) fn(this.latestMessage);
  }

  private async preview(a: AgentInfo): Promise<string | null> {
    const key = `${a.status}|${a.lastOutputAt ?? ''}`;
    const had = this.previews.get(a.id);
    const now = Date.now();
    if (had && had.key === key && (a.lastOutputAt !== null || a.status !== 'Running' || now - had.at < WebLimits.PreviewRefreshMs)) return had.text;
    let text: string | null = null;
    try {
      text = lastLine((await this.client.capture(a.id)).text);
    } catch {
      /* nothing to show (a tmux session gone, a supervisor not answering) */
    }
    this.previews.set(a.id, { key, at: now, text });
    return text;
  }
}
