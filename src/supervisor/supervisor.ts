import * as net from 'node:net';
import type { KeyMode } from '../keys/encode';
import { ProtocolError } from '../protocol/messages';
import { knownAgent } from '../agents/known-agents';
import type { ArgsOf, CaptureReply, EventsReply, OpCall, SignalArgs, SignalReply, StatusReply, TaskInfo, WaitReply } from '../protocol/ops';
import { RECORDING_OFF } from '../recording/settings';
import { liveStatusFileOf } from '../store/live-status';
import { type SessionFiles, type SupervisorConfig, sessionFilesIn } from '../store/session-dir';
import type { ProcessInfo } from '../sys/process-tree';
import { VERSION } from '../version';
import { Activity } from './driving/activity';
import { TaskDelivery } from './driving/delivery';
import { SessionState } from './driving/session-state';
import { TaskQueue } from './driving/queue';
import { type WaitCondition, Waits } from './driving/waits';
import type { AgentExit, AgentProcess } from './lifecycle/agent-process';
import type { EarlyStart } from './lifecycle/early-start';
import { AgentEnd, type EndHost } from './lifecycle/agent-end';
import { type ShutdownHost, shutdownSoon } from './lifecycle/shutdown';
import { type TerminateHost, terminate } from './lifecycle/terminate';
import { Screen } from './mirror/screen';
import { relayBinary } from './native/fast-relay';
import { FloodPump } from './native/flood-pump';
import { RelayPolicy } from './native/relay-policy';
import { type RecordingSink, startRecording } from './recording/recorder';
import { type RequestHost, handleRequest } from './requests';
import { StatusPublisher } from './status/publisher';
import { type StatusHost, StatusReport } from './status/report';
import { type InputHost, InputPath } from './input-path';
import { type OutputHost, OutputPath } from './output-path';
import { type WarmHost, WarmUp } from './warm-up';
import type { Connection } from './viewers/connection';
import { ViewerHub } from './viewers/hub';

// One supervisor per agent: it owns the agent's pty, mirrors its screen, serves viewers
// and control requests on a Unix socket, and records how the agent ended. This class
// puts the parts together and runs the agent's life; each part does one job.

export class Supervisor implements RequestHost, StatusHost, InputHost, OutputHost, WarmHost, EndHost, ShutdownHost, TerminateHost {
  readonly screen: Screen;
  readonly activity: Activity;
  readonly queue: TaskQueue;
  readonly waits: Waits;
  readonly viewers: ViewerHub;
  readonly agent: AgentProcess;
  readonly server: net.Server;
  /** The agent and the socket, with what arrived before the rest of the supervisor loaded. */
  private readonly early: EarlyStart;
  /** The agent's end, and what waits for it (lifecycle/agent-end.ts). */
  readonly end: AgentEnd;
  /** Input for the agent from viewers, `send` and the queue (input-path.ts). */
  readonly inputPath: InputPath;
  readonly delivery: TaskDelivery;
  /** The native key relay for one handed-over terminal at a time (relay-policy.ts). */
  readonly relays: RelayPolicy;
  /** The native reader of the agent's output during a flood (flood-pump.ts). */
  readonly pump: FloodPump;
  /** After the output has been quiet a moment: the snapshot prepared, garbage collected (warm-up.ts). */
  readonly warmUp: WarmUp;
  /** Where each chunk of output goes (output-path.ts). */
  readonly outputPath: OutputPath;
  readonly files: SessionFiles;
  /** The native helper's binary, taken at start (null: keys and floods go through Node). */
  readonly relayBinary: string | null;
  /** The native helper taken at start (binary.ts): the relay's and the terminal hand-over's check. */
  readonly nativeBinary: string | null;
  /** The session on the record (recording/): started with the agent. */
  readonly recording: RecordingSink;
  /** The state, the events and the user's hooks (session-state.ts). */
  readonly session: SessionState;
  /** What the supervisor says of itself (status/report.ts)… */
  private readonly report: StatusReport;
  /** …and the status file `list` reads instead of asking (status/publisher.ts). */
  readonly published: StatusPublisher;

  /**
   * Takes over the agent and the socket started before the rest of the supervisor loaded
   * (early-start.ts); the recording starts first, before any output is mirrored.
   * @param nativeBinary its own copy of the native helper (takeNativeBinary, before `ready`)
   */
  constructor(
    readonly config: SupervisorConfig,
    nativeBinary: string | null,
    early: EarlyStart,
  ) {
    this.files = sessionFilesIn(config.sessionDir);
    this.nativeBinary = nativeBinary;
    this.relayBinary = relayBinary(this.nativeBinary);
    this.early = early;
    this.agent = early.agent;
    this.server = early.server;
    const screen = new Screen(config.cols, config.rows, config.scrollbackLines, config.scrollbackBytes);
    this.screen = screen;
    this.recording = startRecording(
      { id: config.id, dir: config.sessionDir, command: config.command, cols: config.cols, rows: config.rows, settings: config.recording ?? RECORDING_OFF },
      {
        snapshot: (cb) => screen.snapshot(cb, false),
        get mirrorBacklog() {
          return screen.unparsedBytes;
        },
        get flooding() {
          return screen.flooding;
        },
      },
    );
    const end = new AgentEnd(this, () => shutdownSoon(this));
    this.end = end;
    const report = new StatusReport(this);
    this.report = report;
    this.published = new StatusPublisher(liveStatusFileOf(config.socketPath), () => report.live());
    this.activity = new Activity(config.idleMs);
    this.queue = new TaskQueue(this.files);
    this.session = new SessionState({
      id: config.id,
      idleMs: config.idleMs,
      known: knownAgent(config.command),
      eventsFile: this.files.events,
      workdir: config.workdir,
      hooks: config.hooks ?? null,
      quietFor: () => this.activity.quietFor(),
      hadOutput: () => this.activity.hasDrawn,
      latestSeq: () => this.screen.seq,
      agentPid: () => this.agent.pid,
      visibleText: () => this.screen.visibleText(),
      lastTypedAt: () => this.viewers?.lastTypedAt() ?? 0,
    });
    this.screen.onSignal((sig) => this.session.signal(sig, this.screen.parsingSeq));
    const sup = this;
    this.waits = new Waits({
      get ended() {
        return sup.ended;
      },
      get exitInfo() {
        return sup.exitInfo;
      },
      state: () => this.session.current.state,
      stateWith: (ms) => this.session.stateWith(ms),
      nextCheckMs: (ms) => this.session.nextCheckMs(ms),
      task: (index) => this.queue.get(index),
      visibleText: () => this.screen.visibleText(),
    });
    this.viewers = new ViewerHub({
      id: config.id,
      sizePolicy: config.sizePolicy,
      serverName: `symposium-mcp-supervisor/${VERSION}`,
      screen: this.screen,
      get ended() {
        return sup.ended;
      },
      get exitInfo() {
        return sup.exitInfo;
      },
      agentPid: () => this.agent.pid,
      agentTerminal: () => this.agent.terminalPath,
      nativeBinary: () => this.nativeBinary,
      writeToAgent: (data, from) => this.inputPath.writeFor(from, data),
      resizeAgent: (cols, rows) => {
        this.agent.resize(cols, rows);
        this.screen.resize(cols, rows);
        this.recording.resized(cols, rows);
        this.session.event({ type: 'resize', cols, rows });
        this.published.changed();
      },
      nudgeRedraw: () => this.agent.nudgeRedraw(),
      request: (c: Connection, id: number, call: OpCall, done: () => void) => handleRequest(this, c, id, call, done),
      terminalLive: (c) => this.relays.consider(c),
      releaseRelay: (c) => this.relays.releaseFor(c),
      connectionClosed: (c) => {
        this.waits.ownerGone(c);
        this.session.ownerGone(c);
        this.relays.viewerLeft();
        this.recording.viewerLeft(c.id);
        if (c.isViewer && c.attachedOnce) this.session.event({ type: 'viewer', action: 'detached', readOnly: c.readOnly, viewers: this.viewerCount() });
        if (c.attachedOnce) this.published.changed();
      },
      viewerAttached: (c) => {
        c.attachedOnce = true;
        this.recording.viewerAttached(c.id, c.readOnly);
        this.session.event({ type: 'viewer', action: 'attached', readOnly: c.readOnly, viewers: this.viewerCount() });
        this.published.changed();
      },
      inputReached: (data) => this.recording.input(data),
    });
    this.inputPath = new InputPath(this);
    this.delivery = new TaskDelivery({
      queue: this.queue,
      idleMs: config.idleMs,
      // Not while the agent has input it did not read (the drain check schedules again).
      accepting: () => !this.ended && this.inputBacklog === 0,
      state: () => this.session.current.state,
      nextCheckMs: () => this.session.nextCheckMs(),
      lastTypedAt: () => this.viewers.lastTypedAt(),
      type: (parts) => this.type(parts),
      cursorLine: () => this.screen.cursorLine,
      stepped: (task) => this.taskStepped(task),
    });
    this.session.onChange((now) => {
      this.delivery.stateChanged(now.state);
      this.waits.stateChanged();
      this.published.changed();
    });
    this.relays = new RelayPolicy(this);
    this.pump = new FloodPump(this);
    this.warmUp = new WarmUp(this);
    // Last: it takes the parts it passes each chunk to.
    this.outputPath = new OutputPath(this);
    // Everyone who waits for the agent's end is told, first of all.
    end.onEnded((e, reason) => {
      this.session.exited(e.code, e.signal, reason);
      this.published.flush();
      this.delivery.agentEnded();
      this.viewers.agentEnded();
      this.waits.agentEnded();
    });
    this.screen.onParsed = () => this.outputPath.parsed();
    this.screen.onKeyModes = (seq, leave) => this.viewers.keyModesChanged(seq, leave);
    // Answers to the agent's queries (DA, CPR…) from the headless terminal reach the
    // agent only while no viewer's real terminal is there to answer.
    this.screen.onAnswer((answer) => {
      if (!this.viewers.answering()) this.agent.write(answer);
    });
  }

  /** Set once the agent has ended and its output is all parsed (lifecycle/agent-end.ts). */
  get ended(): boolean {
    return this.end.ended;
  }

  get exitInfo(): AgentExit | null {
    return this.end.exitInfo;
  }

  /** Bytes of output the agent wrote so far. */
  get bytesIn(): number {
    return this.outputPath.bytesIn;
  }

  /** Everyone connected (the native relay looks for its viewer among them). */
  get conns(): Set<Connection> {
    return this.viewers.conns;
  }

  /**
   * Runs the agent's life: the output held since the start is mirrored, recorded and
   * broadcast like any later output, and the held clients served.
   */
  start(): void {
    const c = this.config;
    const early = this.early;
    early.output.deliverTo((d) => this.outputPath.output(d));
    early.connections.deliverTo((socket) => this.viewers.accept(socket));
    this.agent.onExit((e) => void this.end.exited(e));
    this.session.started();
    this.published.start();
    this.session.event({ type: 'spawned', command: c.command, workdir: c.workdir, restart: c.restart === true });
    this.delivery.schedule();
  }

  /** Input written or accepted for the agent that it has not read yet. */
  get inputBacklog(): number {
    return this.inputPath.backlog;
  }

  /** Keys from a viewer (the native relay reports what it wrote itself). */
  input(c: Connection, data: Buffer, alreadyWritten = false): void {
    this.viewers.input(c, data, alreadyWritten);
  }

  /** Agent output; `from`: a viewer whose terminal the native relay already wrote it to (output-path.ts). */
  output(data: Buffer, from: Connection | null = null): void {
    this.outputPath.output(data, from);
  }

  // ---- what requests ask (requests.ts) ------------------------------------------------

  get idleMs(): number {
    return this.config.idleMs;
  }

  /** Brings the status file up to date: what a reply tells, `list` reads right after. */
  publishStatus(): void {
    this.published.flush();
  }

  status(): StatusReply {
    return this.report.reply();
  }

  async capture(args: ArgsOf<'capture'>, from: Connection): Promise<CaptureReply> {
    // What is parsed up to now, after the output received so far has been parsed.
    await this.screen.flush();
    // Megabytes with the scrollback: not for a client that has gone meanwhile.
    if (from.closed) throw new ProtocolError('closed', 'the connection closed');
    return { ...this.screen.capture(args), final: this.ended };
  }

  wait(cond: WaitCondition, timeoutMs: number | null, from: Connection): Promise<WaitReply> {
    return this.waits.add(from, cond, timeoutMs);
  }

  events(args: ArgsOf<'events'>, from: Connection): Promise<EventsReply> {
    return this.session.read(args, from);
  }

  signal(args: SignalArgs): SignalReply {
    if (this.ended) return { state: 'exited', reason: this.session.current.reason };
    return this.session.hook(args);
  }

  private viewerCount(): number {
    let n = 0;
    for (const c of this.conns) if (c.isViewer && c.attachedOnce && !c.closed) n++;
    return n;
  }

  private taskStepped(task: TaskInfo): void {
    this.session.event({ type: 'task', task: task.index, state: task.state });
    this.published.changed();
    // A marker for a queued task (a sent one is what someone typed: input, recorded as such).
    if (task.state === 'typed' && !task.sent) this.recording.taskDelivered(task.index);
    if (task.state === 'submitted') this.session.submitted(task.index);
    this.waits.stateChanged();
  }

  /** Types for `send` and the queue (see typing.ts). */
  type(parts: Array<{ data: Buffer; paste: boolean }>): Promise<void> {
    return this.inputPath.type(parts);
  }

  async keyMode(): Promise<KeyMode> {
    await this.screen.flush(); // the mirror may be behind the output: a mode set just now counts
    return this.screen.keyMode();
  }

  /**
   * SIGTERM to the supervisor, or a kill request: ends the agent and its process tree
   * (lifecycle/terminate.ts).
   */
  terminate(graceMs: number): Promise<ProcessInfo[]> {
    return terminate(this, graceMs);
  }
}
