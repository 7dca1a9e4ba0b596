import type * as net from 'node:net';
import { knownAgent } from '../agents/known-agents';
import type { OpCall, TaskInfo } from '../protocol/ops';
import { RECORDING_OFF } from '../recording/settings';
import { liveStatusFileOf } from '../store/live-status';
import { type SessionFiles, type SupervisorConfig, sessionFilesIn } from '../store/session-dir';
import type { ProcessInfo } from '../sys/process-tree';
import { VERSION } from '../version';
import { Activity } from './driving/activity';
import { TaskDelivery } from './driving/delivery';
import { TaskQueue } from './driving/queue';
import { SessionState } from './driving/session-state';
import { Waits } from './driving/waits';
import { type InputHost, InputPath } from './input-path';
import { AgentEnd, type EndHost } from './lifecycle/agent-end';
import type { AgentExit, AgentProcess } from './lifecycle/agent-process';
import type { EarlyStart } from './lifecycle/early-start';
import { type ShutdownHost, shutdownSoon } from './lifecycle/shutdown';
import { type TerminateHost, terminate } from './lifecycle/terminate';
import { Screen } from './mirror/screen';
import { relayBinary } from './native/fast-relay';
import { FloodPump, type PumpHost } from './native/flood-pump';
import { RelayPolicy, type RelayHost } from './native/relay-policy';
import { type OutputHost, OutputPath } from './output-path';
import { type RecordingSink, startRecording } from './recording/recorder';
import { type AnswerHost, RequestAnswers } from './request-answers';
import { handleRequest } from './requests';
import { StatusPublisher } from './status/publisher';
import { type StatusHost, StatusReport } from './status/report';
import type { Connection } from './viewers/connection';
import { ViewerHub } from './viewers/hub';
import { type WarmHost, WarmUp } from './warm-up';

// One supervisor per agent: it owns the agent's pty, mirrors its screen, serves viewers
// and control requests on a Unix socket, and records how the agent ended. This class
// puts the parts together: each does one job in its own module (the output's path, the
// input's, the requests' answers, the status, the end), and here each part is built and
// told what it needs to hear of the others.

export class Supervisor implements AnswerHost, StatusHost, InputHost, OutputHost, WarmHost, EndHost, ShutdownHost, TerminateHost, RelayHost, PumpHost {
  readonly files: SessionFiles;
  readonly agent: AgentProcess;
  readonly server: net.Server;
  /** The agent and the socket, with what arrived before the rest of the supervisor loaded. */
  private readonly early: EarlyStart;
  /** The native helper taken at start (binary.ts): the relay's and the terminal hand-over's check. */
  readonly nativeBinary: string | null;
  /** The native helper's binary, taken at start (null: keys and floods go through Node). */
  readonly relayBinary: string | null;
  readonly screen: Screen;
  /** The session on the record (recording/): started with the agent. */
  readonly recording: RecordingSink;
  /** The agent's end, and what waits for it (lifecycle/agent-end.ts). */
  readonly end: AgentEnd;
  /** What the supervisor says of itself (status/report.ts)… */
  readonly report: StatusReport;
  /** …and the status file `list` reads instead of asking (status/publisher.ts). */
  readonly published: StatusPublisher;
  readonly activity: Activity;
  readonly queue: TaskQueue;
  /** The state, the events and the user's hooks (session-state.ts). */
  readonly session: SessionState;
  readonly waits: Waits;
  readonly viewers: ViewerHub;
  /** Input for the agent from viewers, `send` and the queue (input-path.ts). */
  readonly inputPath: InputPath;
  readonly delivery: TaskDelivery;
  /** The native key relay for one handed-over terminal at a time (relay-policy.ts). */
  readonly relays: RelayPolicy;
  /** The native reader of the agent's output during a flood (flood-pump.ts). */
  readonly pump: FloodPump;
  /** Once the output is quiet: the snapshot prepared, garbage collected (warm-up.ts). */
  readonly warmUp: WarmUp;
  /** Where each chunk of the agent's output goes (output-path.ts). */
  readonly outputPath: OutputPath;
  /** The supervisor's side of the control requests (request-answers.ts). */
  readonly answers: RequestAnswers;

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
    this.agent = early.agent;
    this.server = early.server;
    this.early = early;
    this.nativeBinary = nativeBinary;
    this.relayBinary = relayBinary(nativeBinary);
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
      latestSeq: () => screen.seq,
      agentPid: () => this.agent.pid,
      visibleText: () => screen.visibleText(),
      lastTypedAt: () => this.viewers?.lastTypedAt() ?? 0,
    });
    this.waits = new Waits({
      get ended() {
        return end.ended;
      },
      get exitInfo() {
        return end.exitInfo;
      },
      state: () => this.session.current.state,
      stateWith: (ms) => this.session.stateWith(ms),
      nextCheckMs: (ms) => this.session.nextCheckMs(ms),
      task: (index) => this.queue.get(index),
      visibleText: () => screen.visibleText(),
    });
    this.viewers = new ViewerHub({
      id: config.id,
      sizePolicy: config.sizePolicy,
      serverName: `symposium-mcp-supervisor/${VERSION}`,
      screen,
      get ended() {
        return end.ended;
      },
      get exitInfo() {
        return end.exitInfo;
      },
      agentPid: () => this.agent.pid,
      agentTerminal: () => this.agent.terminalPath,
      nativeBinary: () => this.nativeBinary,
      writeToAgent: (data, from) => this.inputPath.writeFor(from, data),
      resizeAgent: (cols, rows) => this.resized(cols, rows),
      nudgeRedraw: () => this.agent.nudgeRedraw(),
      request: (c: Connection, id: number, call: OpCall, done: () => void) => handleRequest(this.answers, c, id, call, done),
      terminalLive: (c) => this.relays.consider(c),
      releaseRelay: (c) => this.relays.releaseFor(c),
      connectionClosed: (c) => this.connectionClosed(c),
      viewerAttached: (c) => this.viewerAttached(c),
      inputReached: (data) => this.recording.input(data),
    });
    this.inputPath = new InputPath(this);
    this.delivery = new TaskDelivery({
      queue: this.queue,
      idleMs: config.idleMs,
      // Not while the agent has input it did not read (the drain check schedules again).
      accepting: () => !end.ended && this.inputPath.backlog === 0,
      state: () => this.session.current.state,
      nextCheckMs: () => this.session.nextCheckMs(),
      lastTypedAt: () => this.viewers.lastTypedAt(),
      type: (parts) => this.inputPath.type(parts),
      cursorLine: () => screen.cursorLine,
      stepped: (task) => this.taskStepped(task),
    });
    this.relays = new RelayPolicy(this);
    this.pump = new FloodPump(this);
    this.warmUp = new WarmUp(this);
    // After every part it passes the output to: it keeps them.
    this.outputPath = new OutputPath(this);
    this.answers = new RequestAnswers(this);

    // ---- who hears of what
    screen.onSignal((sig) => this.session.signal(sig, screen.parsingSeq));
    screen.onParsed = () => this.outputPath.parsed();
    screen.onKeyModes = (seq, leave) => this.viewers.keyModesChanged(seq, leave);
    // Answers to the agent's queries (DA, CPR…) from the headless terminal reach the
    // agent only while no viewer's real terminal is there to answer.
    screen.onAnswer((answer) => {
      if (!this.viewers.answering()) this.agent.write(answer);
    });
    this.session.onChange((now) => {
      this.delivery.stateChanged(now.state);
      this.waits.stateChanged();
      this.published.changed();
    });
    // Before anyone else who waits for the end (a kill request).
    end.onEnded((e, reason) => {
      this.session.exited(e.code, e.signal, reason);
      this.published.flush();
      this.delivery.agentEnded();
      this.viewers.agentEnded();
      this.waits.agentEnded();
    });
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

  /**
   * SIGTERM to the supervisor, or a kill request: ends the agent and its process tree
   * (lifecycle/terminate.ts).
   */
  terminate(graceMs: number): Promise<ProcessInfo[]> {
    return terminate(this, graceMs);
  }

  // ---- the state the parts read (the native helpers among them) -----------------------

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

  /** Input written or accepted for the agent that it has not read yet. */
  get inputBacklog(): number {
    return this.inputPath.backlog;
  }

  /** Everyone connected (the native relay looks for its viewer among them). */
  get conns(): Set<Connection> {
    return this.viewers.conns;
  }

  /** Agent output; `from`: a viewer whose terminal the native relay already wrote it to (output-path.ts). */
  output(data: Buffer, from: Connection | null = null): void {
    this.outputPath.output(data, from);
  }

  /** Keys from a viewer (the native relay reports what it wrote itself). */
  input(c: Connection, data: Buffer, alreadyWritten = false): void {
    this.viewers.input(c, data, alreadyWritten);
  }

  // ---- what the parts tell each other ------------------------------------------------

  /** The size the viewers chose (size-policy.ts). */
  private resized(cols: number, rows: number): void {
    this.agent.resize(cols, rows);
    this.screen.resize(cols, rows);
    this.recording.resized(cols, rows);
    this.session.event({ type: 'resize', cols, rows });
    this.published.changed();
  }

  /** last_attached in the session's record (lifecycle/record-attach.ts): loaded at the first attach. */
  private attachRecord: import('./lifecycle/record-attach').AttachRecord | null = null;

  private viewerAttached(c: Connection): void {
    if (!c.attachedOnce) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.attachRecord ??= new (require('./lifecycle/record-attach') as typeof import('./lifecycle/record-attach')).AttachRecord(this.config);
      this.attachRecord.attached();
    }
    c.attachedOnce = true;
    this.recording.viewerAttached(c.id, c.readOnly);
    this.session.event({ type: 'viewer', action: 'attached', readOnly: c.readOnly, viewers: this.viewerCount() });
    this.published.changed();
  }

  /** What a connection owned goes with it (its waits, polls, the relay's terminal). */
  private connectionClosed(c: Connection): void {
    this.waits.ownerGone(c);
    this.session.ownerGone(c);
    this.relays.viewerLeft();
    this.recording.viewerLeft(c.id);
    if (c.isViewer && c.attachedOnce) this.session.event({ type: 'viewer', action: 'detached', readOnly: c.readOnly, viewers: this.viewerCount() });
    if (c.attachedOnce) this.published.changed();
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
}
