import type { WebSocket } from 'ws';
import type { SymposiumClient } from '../client/client';
import type { Disposable } from '../client/types';
import type { AgentsFeed } from './agents-feed';
import { BrowserFlow } from './flow';
import { WebLimits } from './limits';
import { BadMessage, type BrowserMessage, type PageMessage, type AgentRow, decodeBrowserMessage } from './messages';
import { CaptureView } from './capture-view';
import { LiveView } from './live-view';
import type { View, ViewHost } from './view';

// One page's WebSocket: the list of agents as it changes, and at most one opened agent
// (its view, under this browser's flow control). Typing, sending and queueing only when
// the server runs with --write; the supervisor enforces read-only too (a read-only attach).

export interface SessionOptions {
  client: SymposiumClient;
  feed: AgentsFeed;
  write: boolean;
  version: string;
}

const READ_ONLY = 'read-only: this server was started without --write';

export class WsSession {
  readonly flow: BrowserFlow;
  private view: View | null = null;
  private viewId = '';
  private v = -1;
  private readonly feedSub: Disposable;
  private lastQueued: number | null | undefined = undefined;
  private alive = true;
  private readonly pinger: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: SessionOptions,
  ) {
    this.flow = new BrowserFlow((m) => this.send(m), () => this.view?.refresh());
    this.send({ t: 'hello', version: opts.version, write: opts.write });
    this.feedSub = opts.feed.subscribe((m) => {
      this.send(m);
      this.watchTasks(m.agents);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return this.send({ t: 'error', message: 'binary frames are not part of this protocol' });
      try {
        this.message(data.toString());
      } catch (err) {
        this.send({ t: 'error', message: (err as Error).message });
      }
    });
    ws.on('pong', () => (this.alive = true));
    // A page that stopped answering (a phone that lost its network) would hold its attach forever.
    this.pinger = setInterval(() => {
      if (!this.alive) return ws.terminate();
      this.alive = false;
      ws.ping();
    }, WebLimits.PingIntervalMs);
    ws.on('close', () => this.dispose());
    ws.on('error', () => this.dispose());
  }

  /** Ends this page's session (the server is stopping). */
  close(code = 1001, reason = 'server stopping'): void {
    this.dispose();
    this.ws.close(code, reason);
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pinger);
    this.feedSub.dispose();
    this.closeView();
    this.flow.dispose();
  }

  private send(m: PageMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(m));
  }

  private message(raw: string): void {
    let m: BrowserMessage;
    try {
      m = decodeBrowserMessage(raw);
    } catch (err) {
      if (err instanceof BadMessage) return this.send({ t: 'error', message: `bad message: ${err.message}` });
      throw err;
    }
    switch (m.t) {
      case 'ack':
        if (!this.flow.ack(m.n)) this.send({ t: 'error', message: `ack ${m.n} is not a count that was sent` });
        return;
      case 'open':
        return void this.open(m.v, m.id);
      case 'close':
        return this.closeView();
      case 'type':
      case 'watch':
        return void this.setTyping(m.t === 'type' ? { cols: m.cols, rows: m.rows } : null);
      case 'input':
        if (!this.opts.write) return this.send({ t: 'error', message: READ_ONLY });
        if (this.view instanceof LiveView) this.view.input(m.d);
        return;
      case 'resize':
        if (this.view instanceof LiveView) this.view.resize(m.cols, m.rows);
        return;
      case 'send':
        return void this.act(m.ref, m.id, async (c) => {
          await c.send(m.id, { text: m.text, keys: m.keys, enter: m.enter });
          return 'sent';
        });
      case 'queue':
        return void this.act(m.ref, m.id, async (c) => {
          const task = await c.queue(m.id, m.text);
          return `queued as task ${task.index}`;
        });
    }
  }

  private async act(ref: number, id: string, fn: (c: SymposiumClient) => Promise<string>): Promise<void> {
    if (!this.opts.write) return this.send({ t: 'done', ref, ok: false, message: READ_ONLY });
    try {
      const message = await fn(this.opts.client);
      this.send({ t: 'done', ref, ok: true, message });
      if (id === this.viewId) void this.sendTasks();
      this.opts.feed.pollSoon();
    } catch (err) {
      this.send({ t: 'done', ref, ok: false, message: (err as Error).message });
    }
  }

  private closeView(): void {
    this.view?.dispose();
    this.view = null;
    this.viewId = '';
    this.lastQueued = undefined;
    this.flow.viewChanged();
  }

  private host(v: number, id: string): ViewHost {
    return {
      client: this.opts.client,
      flow: this.flow,
      v,
      id,
      ended: (end) => {
        if (this.v === v) this.flow.control({ t: 'ended', v, ...end });
      },
      failed: (err) => {
        if (this.v === v) void this.fallBack(v, id, err);
      },
    };
  }

  private async open(v: number, id: string): Promise<void> {
    this.closeView();
    this.v = v;
    this.viewId = id;
    const rows = await this.opts.feed.rows();
    if (this.v !== v || this.closed) return;
    const row = rows.find((r) => r.id === id) ?? (await this.opts.feed.rows(true)).find((r) => r.id === id);
    if (this.v !== v || this.closed) return;
    if (!row) return this.send({ t: 'error', message: `no agent session ${id}` });
    const running = row.status === 'Running' || row.status === 'Starting';
    if (row.backend === 'pty' && running) {
      await this.show(v, id, new LiveView(this.host(v, id)), null);
    } else if (running) {
      await this.show(v, id, new CaptureView(this.host(v, id), 'captures'), tmuxNote(row));
    } else {
      await this.show(v, id, new CaptureView(this.host(v, id), 'final'), endedNote(row));
    }
    void this.sendTasks();
  }

  private async show(v: number, id: string, view: View, note: string | null): Promise<void> {
    this.view?.dispose();
    this.view = view;
    this.send({ t: 'view', v, id, mode: view.mode, typing: view.typing, note });
    try {
      await view.start();
    } catch (err) {
      this.host(v, id).failed(err as Error);
    }
  }

  /** A live view that could not attach: the agent ended meanwhile (its last screen), or an error. */
  private async fallBack(v: number, id: string, err: Error): Promise<void> {
    const row = (await this.opts.feed.rows(true)).find((r) => r.id === id);
    if (this.v !== v || this.closed) return;
    if (row && row.status !== 'Running' && row.status !== 'Starting' && !(this.view instanceof CaptureView && this.view.mode === 'final')) {
      return this.show(v, id, new CaptureView(this.host(v, id), 'final'), endedNote(row));
    }
    this.send({ t: 'error', message: err.message });
  }

  private async setTyping(size: { cols: number; rows: number } | null): Promise<void> {
    if (!this.opts.write) return this.send({ t: 'error', message: READ_ONLY });
    const view = this.view;
    if (!(view instanceof LiveView)) return this.send({ t: 'error', message: 'this view cannot be typed into' });
    const v = this.v;
    await view.setTyping(size);
    if (this.view === view && this.v === v) this.send({ t: 'view', v, id: this.viewId, mode: 'live', typing: view.typing, note: null });
  }

  /** The open agent's queued tasks, whenever its count changes. */
  private watchTasks(agents: AgentRow[]): void {
    if (!this.viewId) return;
    const queued = agents.find((a) => a.id === this.viewId)?.queued ?? null;
    if (queued === this.lastQueued) return;
    this.lastQueued = queued;
    void this.sendTasks();
  }

  private async sendTasks(): Promise<void> {
    const v = this.v;
    const id = this.viewId;
    if (!id) return;
    try {
      const tasks = (await this.opts.client.tasks(id)).filter((t) => t.state === 'queued');
      if (this.v === v && !this.closed) this.send({ t: 'tasks', v, id, tasks: tasks.map((t) => ({ index: t.index, text: t.text, queuedAt: t.queuedAt })) });
    } catch {
      /* no queue here (tmux) or the agent ended: the page shows none */
      if (this.v === v && !this.closed) this.send({ t: 'tasks', v, id, tasks: [] });
    }
  }
}

function tmuxNote(row: AgentRow): string {
  return `tmux session: shown as a capture every second, read-only. To type in it: tmux attach-session -t ${row.sessionName}`;
}

function endedNote(row: AgentRow): string {
  const how = row.exitSignal ? `killed by ${row.exitSignal}` : row.exitCode !== null ? `exited with code ${row.exitCode}` : (row.reason ?? 'ended');
  return `This agent has ended (${how}): its last screen.`;
}
