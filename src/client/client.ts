import type { AttachStream, KillResult } from '../backends/backend';
import type { EventsReply } from '../protocol/ops';
import { Context, type ClientOptions } from './context';
import type {
  AgentInfo,
  AgentStatus,
  AttachOptions,
  Capture,
  CaptureOptions,
  LogEntry,
  LogOptions,
  PruneResult,
  RestartOptions,
  SendInput,
  SpawnOptions,
  Task,
  TerminalAttachOptions,
  WaitFor,
  WaitOptions,
  WaitOutcome,
  AgentEvent,
  EventsOptions,
} from './types';
import type { ListOptions } from './verbs/list';

/* eslint-disable @typescript-eslint/no-require-imports */
// Each verb's module is evaluated when that verb is first called, not when the client is
// made: `agent list` would otherwise evaluate spawn's, attach's, logs'… and what they
// import, every time (with the lazy backend link and hook sender: the CLI's top level
// went from 18-32 ms to 5 at load ~8, see docs/benchmarks.md).
const verbs = {
  attach: () => require('./verbs/attach') as typeof import('./verbs/attach'),
  capture: () => require('./verbs/capture') as typeof import('./verbs/capture'),
  events: () => require('./verbs/events') as typeof import('./verbs/events'),
  kill: () => require('./verbs/kill') as typeof import('./verbs/kill'),
  list: () => require('./verbs/list') as typeof import('./verbs/list'),
  logs: () => require('./verbs/logs') as typeof import('./verbs/logs'),
  prune: () => require('./verbs/prune') as typeof import('./verbs/prune'),
  queue: () => require('./verbs/queue') as typeof import('./verbs/queue'),
  record: () => require('./verbs/record') as typeof import('./verbs/record'),
  restart: () => require('./verbs/restart') as typeof import('./verbs/restart'),
  send: () => require('./verbs/send') as typeof import('./verbs/send'),
  spawn: () => require('./verbs/spawn') as typeof import('./verbs/spawn'),
  status: () => require('./verbs/status') as typeof import('./verbs/status'),
  wait: () => require('./verbs/wait') as typeof import('./verbs/wait'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

// The client library: every verb of symposium-mcp as a method, each resolving with a
// typed result or rejecting with a SymposiumError whose message says what to do. Pure
// JavaScript (no native module), for both backends where the backend can. The CLI, the
// MCP server and the web viewer use it; so can an editor extension.

export class SymposiumClient {
  private readonly ctx: Context;

  constructor(opts: ClientOptions = {}) {
    this.ctx = new Context(opts);
  }

  /** ~/.symposium, or SYMPOSIUM_HOME. */
  get home(): string {
    return this.ctx.places.home;
  }

  list(opts?: ListOptions): Promise<AgentInfo[]> {
    return verbs.list().list(this.ctx, opts);
  }

  spawn(opts: SpawnOptions): Promise<AgentInfo> {
    return verbs.spawn().spawn(this.ctx, opts);
  }

  kill(id: string): Promise<KillResult> {
    return verbs.kill().kill(this.ctx, id);
  }

  restart(id: string, opts?: RestartOptions): Promise<AgentInfo> {
    return verbs.restart().restart(this.ctx, id, opts);
  }

  /** Restarts every session a reboot (or a dead supervisor) ended. */
  restartAll(opts?: RestartOptions): Promise<Array<{ id: string; agent: AgentInfo | null; error: string | null }>> {
    return verbs.restart().restartAll(this.ctx, opts);
  }

  prune(): Promise<PruneResult> {
    return verbs.prune().prune(this.ctx);
  }

  /** Types now; text with `enter` becomes a task with receipts (pty backend), returned (else null). */
  send(id: string, input: string | SendInput): Promise<Task | null> {
    return verbs.send().send(this.ctx, id, input);
  }

  queue(id: string, text: string): Promise<Task> {
    return verbs.queue().queueAdd(this.ctx, id, text);
  }

  tasks(id: string): Promise<Task[]> {
    return verbs.queue().queueList(this.ctx, id);
  }

  clearQueue(id: string): Promise<number> {
    return verbs.queue().queueClear(this.ctx, id);
  }

  capture(id: string, opts?: CaptureOptions): Promise<Capture> {
    return verbs.capture().capture(this.ctx, id, opts);
  }

  wait(id: string, what: WaitFor, opts?: WaitOptions): Promise<WaitOutcome> {
    return verbs.wait().wait(this.ctx, id, what, opts);
  }

  /**
   * What happened in these sessions (all of them when none is named): states with their
   * reasons, task receipts, viewers, resizes, notifications, exits. Oldest first; with
   * `follow`, then each as it comes until `signal` aborts: `for await (const e of client.events([], { follow: true, signal }))`.
   */
  events(ids: string[] = [], opts?: EventsOptions): AsyncGenerator<AgentEvent> {
    return verbs.events().events(this.ctx, ids, opts);
  }

  /** One read of a session's events after number `since` (a previous read's `next`), waiting up to `waitMs` for one. */
  eventsAfter(id: string, since: number, opts?: { waitMs?: number; signal?: AbortSignal }): Promise<EventsReply> {
    return verbs.events().eventsAfter(this.ctx, id, since, opts);
  }

  /** What the agent printed, as plain lines (pty backend: from its recording, also after the exit). */
  logs(id: string, opts?: LogOptions): Promise<LogEntry[]> {
    return verbs.logs().logs(this.ctx, id, opts);
  }

  /** The log, then each line as it is printed, until the agent exits or `signal` aborts: `for await (const l of client.followLogs(id))`. */
  followLogs(id: string, opts?: LogOptions & { signal?: AbortSignal }): AsyncGenerator<LogEntry> {
    return verbs.logs().followLogs(this.ctx, id, opts);
  }

  /** The recording as one asciicast v2 file's text (its parts joined), for asciinema and any player. */
  recording(id: string): Promise<string> {
    return verbs.record().recording(this.ctx, id);
  }

  status(id: string): Promise<AgentStatus> {
    return verbs.status().status(this.ctx, id);
  }

  attach(id: string, opts: AttachOptions): Promise<AttachStream> {
    return verbs.attach().attach(this.ctx, id, opts);
  }

  attachTerminal(id: string, opts?: TerminalAttachOptions): Promise<number> {
    return verbs.attach().attachTerminal(this.ctx, id, opts);
  }
}
