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
import { attach, attachTerminal } from './verbs/attach';
import { capture } from './verbs/capture';
import { events, eventsAfter } from './verbs/events';
import { kill } from './verbs/kill';
import { type ListOptions, list } from './verbs/list';
import { followLogs, logs } from './verbs/logs';
import { prune } from './verbs/prune';
import { queueAdd, queueClear, queueList } from './verbs/queue';
import { recording } from './verbs/record';
import { restart, restartAll } from './verbs/restart';
import { send } from './verbs/send';
import { spawn } from './verbs/spawn';
import { status } from './verbs/status';
import { wait } from './verbs/wait';

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
    return list(this.ctx, opts);
  }

  spawn(opts: SpawnOptions): Promise<AgentInfo> {
    return spawn(this.ctx, opts);
  }

  kill(id: string): Promise<KillResult> {
    return kill(this.ctx, id);
  }

  restart(id: string, opts?: RestartOptions): Promise<AgentInfo> {
    return restart(this.ctx, id, opts);
  }

  /** Restarts every session a reboot (or a dead supervisor) ended. */
  restartAll(opts?: RestartOptions): Promise<Array<{ id: string; agent: AgentInfo | null; error: string | null }>> {
    return restartAll(this.ctx, opts);
  }

  prune(): Promise<PruneResult> {
    return prune(this.ctx);
  }

  /** Types now; text with `enter` becomes a task with receipts (pty backend), returned (else null). */
  send(id: string, input: string | SendInput): Promise<Task | null> {
    return send(this.ctx, id, input);
  }

  queue(id: string, text: string): Promise<Task> {
    return queueAdd(this.ctx, id, text);
  }

  tasks(id: string): Promise<Task[]> {
    return queueList(this.ctx, id);
  }

  clearQueue(id: string): Promise<number> {
    return queueClear(this.ctx, id);
  }

  capture(id: string, opts?: CaptureOptions): Promise<Capture> {
    return capture(this.ctx, id, opts);
  }

  wait(id: string, what: WaitFor, opts?: WaitOptions): Promise<WaitOutcome> {
    return wait(this.ctx, id, what, opts);
  }

  /**
   * What happened in these sessions (all of them when none is named): states with their
   * reasons, task receipts, viewers, resizes, notifications, exits. Oldest first; with
   * `follow`, then each as it comes until `signal` aborts: `for await (const e of client.events([], { follow: true, signal }))`.
   */
  events(ids: string[] = [], opts?: EventsOptions): AsyncGenerator<AgentEvent> {
    return events(this.ctx, ids, opts);
  }

  /** One read of a session's events after number `since` (a previous read's `next`), waiting up to `waitMs` for one. */
  eventsAfter(id: string, since: number, opts?: { waitMs?: number; signal?: AbortSignal }): Promise<EventsReply> {
    return eventsAfter(this.ctx, id, since, opts);
  }

  /** What the agent printed, as plain lines (pty backend: from its recording, also after the exit). */
  logs(id: string, opts?: LogOptions): Promise<LogEntry[]> {
    return logs(this.ctx, id, opts);
  }

  /** The log, then each line as it is printed, until the agent exits or `signal` aborts: `for await (const l of client.followLogs(id))`. */
  followLogs(id: string, opts?: LogOptions & { signal?: AbortSignal }): AsyncGenerator<LogEntry> {
    return followLogs(this.ctx, id, opts);
  }

  /** The recording as one asciicast v2 file's text (its parts joined), for asciinema and any player. */
  recording(id: string): Promise<string> {
    return recording(this.ctx, id);
  }

  status(id: string): Promise<AgentStatus> {
    return status(this.ctx, id);
  }

  attach(id: string, opts: AttachOptions): Promise<AttachStream> {
    return attach(this.ctx, id, opts);
  }

  attachTerminal(id: string, opts?: TerminalAttachOptions): Promise<number> {
    return attachTerminal(this.ctx, id, opts);
  }
}
