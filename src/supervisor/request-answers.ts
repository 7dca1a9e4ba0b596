import type { KeyMode } from '../keys/encode';
import { ProtocolError } from '../protocol/messages';
import type { ArgsOf, CaptureReply, EventsReply, SignalArgs, SignalReply, StatusReply, WaitReply } from '../protocol/ops';
import type { SupervisorConfig } from '../store/session-dir';
import type { ProcessInfo } from '../sys/process-tree';
import type { TaskDelivery } from './driving/delivery';
import type { TaskQueue } from './driving/queue';
import type { SessionState } from './driving/session-state';
import type { WaitCondition, Waits } from './driving/waits';
import type { InputPath } from './input-path';
import type { AgentEnd } from './lifecycle/agent-end';
import type { AgentExit } from './lifecycle/agent-process';
import { type TerminateHost, terminate } from './lifecycle/terminate';
import type { Screen } from './mirror/screen';
import type { RequestHost } from './requests';
import type { StatusPublisher } from './status/publisher';
import type { StatusReport } from './status/report';
import type { Connection } from './viewers/connection';

// The supervisor's side of the control requests: what each asks of the mirror, the
// waits, the state, the typing and the agent's end. requests.ts checks each request,
// calls in here and sends the reply.

export interface AnswerHost extends TerminateHost {
  readonly config: SupervisorConfig;
  readonly screen: Screen;
  readonly queue: TaskQueue;
  readonly delivery: TaskDelivery;
  readonly waits: Waits;
  readonly session: SessionState;
  readonly inputPath: InputPath;
  readonly report: StatusReport;
  readonly published: StatusPublisher;
  readonly end: AgentEnd;
}

export class RequestAnswers implements RequestHost {
  readonly queue: TaskQueue;
  readonly delivery: TaskDelivery;
  readonly idleMs: number;

  constructor(private readonly host: AnswerHost) {
    this.queue = host.queue;
    this.delivery = host.delivery;
    this.idleMs = host.config.idleMs;
  }

  get ended(): boolean {
    return this.host.end.ended;
  }

  get exitInfo(): AgentExit | null {
    return this.host.end.exitInfo;
  }

  get inputBacklog(): number {
    return this.host.inputPath.backlog;
  }

  status(): StatusReply {
    return this.host.report.reply();
  }

  /** Brings the status file up to date: what a reply tells, `list` reads right after. */
  publishStatus(): void {
    this.host.published.flush();
  }

  async capture(args: ArgsOf<'capture'>, from: Connection): Promise<CaptureReply> {
    const screen = this.host.screen;
    // What is parsed up to now, after the output received so far has been parsed.
    await screen.flush();
    // Megabytes with the scrollback: not for a client that has gone meanwhile.
    if (from.closed) throw new ProtocolError('closed', 'the connection closed');
    return { ...screen.capture(args), final: this.ended };
  }

  wait(cond: WaitCondition, timeoutMs: number | null, from: Connection): Promise<WaitReply> {
    return this.host.waits.add(from, cond, timeoutMs);
  }

  events(args: ArgsOf<'events'>, from: Connection): Promise<EventsReply> {
    return this.host.session.read(args, from);
  }

  signal(args: SignalArgs): SignalReply {
    const session = this.host.session;
    if (this.ended) return { state: 'exited', reason: session.current.reason };
    return session.hook(args);
  }

  /** Types for `send` and the queue (see typing.ts). */
  type(parts: Array<{ data: Buffer; paste: boolean }>): Promise<void> {
    return this.host.inputPath.type(parts);
  }

  async keyMode(): Promise<KeyMode> {
    const screen = this.host.screen;
    await screen.flush(); // the mirror may be behind the output: a mode set just now counts
    return screen.keyMode();
  }

  terminate(graceMs: number): Promise<ProcessInfo[]> {
    return terminate(this.host, graceMs);
  }
}
