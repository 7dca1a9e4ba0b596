import type { StateName } from '../protocol/events';
import type { CaptureArgs, CaptureReply, Cursor, EventsArgs, EventsReply, TaskInfo } from '../protocol/ops';
import type { RecordingSettings } from '../recording/settings';
import type { SessionHooks } from '../store/session-dir';
import type { BackendName, SessionRecord } from '../store/types';

// The seam between the verbs and the two ways of running an agent. Every verb goes
// through this interface; the backend named in the session's record answers.

export interface SpawnRequest {
  id: string;
  /** Absolute, checked to exist and be a directory. */
  workdir: string;
  command: string[];
  cols: number;
  rows: number;
  sizePolicy: 'latest' | 'smallest';
  /** Quiet time after which the agent counts as idle. */
  idleMs: number;
  /** The record's created_at in ms: the supervisor names its incarnation with it. */
  createdAtMs: number;
  /** What the session records (the pty backend; tmux records nothing). */
  recording: RecordingSettings;
  /** Hooks (the pty backend; null: none). */
  hooks: SessionHooks | null;
  /** A restart of an ended session (its events go on), not a new one. */
  restart: boolean;
}

export interface SpawnResult {
  supervisorPid: number | null;
  agentPid: number | null;
  /** pty: the socket the supervisor listens on (recorded: another environment may compute another path). */
  socketPath?: string;
  /** tmux: the socket of the server that runs the session (recorded: every later command names it). */
  tmuxSocket?: string;
}

/** What a backend sees of one session right now. */
export interface Observation {
  /** running: alive and answering; ended: exited (exit known); missing: nothing there. */
  state: 'running' | 'ended' | 'missing';
  exitCode?: number | null;
  exitSignal?: string | null;
  /** Why it is ended or missing, in a few words ("supervisor died", "gone from tmux"). */
  reason?: string;
  supervisorPid?: number | null;
  agentPid?: number | null;
  cols?: number;
  rows?: number;
  viewers?: number;
  /** Milliseconds since the epoch of the last output, when known. */
  lastOutputAt?: number | null;
  activity?: 'working' | 'idle' | null;
  /** What the agent is doing, why, and since when (ms since the epoch; null: not known). */
  agentState?: AgentStateNow | null;
  /** Tasks waiting in the queue (pty). */
  queued?: number;
  /** False when the session runs but does not answer (pty: its supervisor stopped, or it had to be asked and did not answer within its time limit). */
  responding?: boolean;
  /** Set when the session's own metadata describes a newer run than the record (a file restored from an old copy): the record is corrected from it. */
  incarnation?: Incarnation;
}

export interface ObserveOptions {
  /** Size, viewers and activity too (`agent list`). Default true. */
  detail?: boolean;
}

/** A run of a session as the backend's own metadata describes it (pty: supervisor.json). */
export interface Incarnation {
  createdAtMs: number;
  command: string[];
  workdir: string;
}

/** A session the backend knows about that the file has no record of (a deleted or restored file). */
export interface Discovered {
  id: string;
  incarnation: Incarnation;
  observation: Observation;
  /** Checked again under the file lock before the record is added: is it still there? */
  stillThere(): boolean;
}

/** Attaching this process's own terminal (the CLI's `agent attach`). */
export interface TerminalAttachOptions {
  readOnly: boolean;
  /** The byte that detaches (pressed twice, it is sent to the agent; followed by r, a redraw). */
  detachKey: number;
  /** Make the agent redraw after the replay even at the same size (pty). */
  redraw: boolean;
  /** Print the command instead of attaching (tmux backend). */
  printOnly: boolean;
  /** The attach hint's text (the detach key, in the window title for the first seconds; pty); null: none. */
  hint: string | null;
  /** Called once the user sees the session (records last_attached), not before. */
  onAttached: () => void;
}

/** Attaching as a stream, for a program that shows the agent in a terminal of its own (an editor). */
export interface StreamAttachOptions {
  /** The size of the terminal that shows it (it becomes the agent's size unless read-only). */
  cols: number;
  rows: number;
  /** Watch only: no input, no resizing. */
  readOnly: boolean;
  /**
   * Called once the stream is set up when the caller must record the attach (the
   * session's last_attached) itself: not when the supervisor does (`records-attach`).
   */
  onAttached?: () => void;
}

/** How an attach stream ended. */
export type StreamEnd =
  | { reason: 'exit'; code: number | null; signal: string | null }
  | { reason: 'detached' }
  | { reason: 'lost'; message: string };

/** Stops a listener. */
export interface Disposable {
  dispose(): void;
}

/**
 * A live view of an agent, shaped after what an editor's terminal needs (VS Code's
 * Pseudoterminal: onDidWrite, handleInput, setDimensions, close). The data starts with a
 * reset and the screen as it is, then the agent's output as it comes.
 */
export interface AttachStream {
  /** The agent's window size now. */
  readonly cols: number;
  readonly rows: number;
  /** Text for the terminal: the replay first, then the output. Chunks end on whole characters. */
  onData(listener: (data: string) => void): Disposable;
  /** The agent's window size changed (another viewer took it, or our resize was applied). */
  onResize(listener: (size: { cols: number; rows: number }) => void): Disposable;
  /** The stream is over: the agent exited, we detached, or the connection was lost. Called once. */
  onExit(listener: (end: StreamEnd) => void): Disposable;
  /** Keys typed in the terminal, as the terminal encodes them (ignored when read-only). */
  write(data: string | Uint8Array): void;
  /** The terminal's size changed. */
  resize(cols: number, rows: number): void;
  /** Repaints from the agent's screen, and makes the agent redraw (unless read-only). */
  redraw(): void;
  /** Leaves; the agent runs on. */
  detach(): void;
}

export type CaptureOptions = CaptureArgs;
/** The screen; the cursor is null where the backend cannot tell. */
export type CaptureResult = Omit<CaptureReply, 'cursor'> & { cursor: Cursor | null };

export interface SendOptions {
  /** Text to type (may be empty). */
  data: Buffer;
  /** Send the text as one bracketed paste when the agent enabled it. */
  paste: boolean;
  /**
   * Keys typed after the text, each as its own write (Enter is one). Text and keys are
   * one unit: two sends at once never interleave.
   */
  keys: Buffer[];
  /**
   * The same keys by name (`S-Enter`): each backend encodes them as the agent can read
   * them (pty: the supervisor, for the protocol the agent asked for; tmux: as tmux sends
   * keys). `keys` holds their legacy bytes, for a supervisor older than names.
   */
  keyNames: string[] | null;
  /** The text is a task the keys submit: pty sessions give it a number and receipts. */
  task?: boolean;
}

export type WaitCondition =
  /** idleMs null: the session's own idle time. */
  | { until: 'idle'; idleMs: number | null }
  | { until: 'exit' }
  | { until: 'text'; pattern: string; flags: string }
  | { until: 'state'; states: StateName[] }
  | { until: 'task'; task: number };

export interface AgentStateNow {
  state: StateName;
  reason: string;
  since: number | null;
}

export interface WaitOptions {
  /** Give up after this long (null: never). */
  timeoutMs: number | null;
  /** Stops waiting (the promise rejects with an AbortError). */
  signal?: AbortSignal;
}

export interface WaitResult {
  /** False when the timeout passed first. */
  satisfied: boolean;
  /** The agent has ended (an idle or text wait then says so rather than waiting). */
  ended: boolean;
  exitCode: number | null;
  exitSignal: string | null;
  /** The matching text, for until: 'text'. */
  match: string | null;
  /** The state when answered (null: not known). */
  state: StateName | null;
  /** For until: 'task': the task as it is then. */
  task: TaskInfo | null;
}

export type QueueEntry = TaskInfo;

/** What `status` says of one session, for either backend. */
export interface StatusResult {
  running: boolean;
  cols: number | null;
  rows: number | null;
  viewers: number | null;
  lastOutputAt: number | null;
  activity: 'working' | 'idle' | null;
  agentState: AgentStateNow | null;
  idleMs: number | null;
  title: string | null;
  exitCode: number | null;
  exitSignal: string | null;
  supervisorPid: number | null;
  agentPid: number | null;
  queued: number | null;
}

/** What `kill` left: processes of the agent's run that had daemonised themselves (not ended, as under tmux). */
export interface KillResult {
  leftRunning: Array<{ pid: number; command: string }>;
}

/** Where a session's recording is, for `logs` and `record`. */
export interface RecordingSource {
  /** The directory of its parts (store/recording-files.ts). */
  dir: string;
  /** What this run records; null when it was started before recordings existed. */
  settings: RecordingSettings | null;
  /** The supervisor may still write to it (false once it has exited or died). */
  live(): boolean;
  /**
   * Resolves once the recording of an ended agent is complete (its supervisor writes the
   * last events after telling everyone of the end, then exits); at once while it runs.
   */
  written(): Promise<void>;
}

export interface Backend {
  readonly name: BackendName;
  spawn(req: SpawnRequest): Promise<SpawnResult>;
  /**
   * One call for all of this backend's records: tmux lists its sessions once. Without
   * `detail`, only the state must be right (no size, viewers or activity): cheaper.
   */
  observe(records: SessionRecord[], opts?: ObserveOptions): Promise<Map<string, Observation>>;
  /** Sessions this backend runs or keeps that are not among `known` (adoption after file loss). */
  discover?(known: ReadonlySet<string>): Promise<Discovered[]>;
  /** Attaches this process's terminal; returns the process exit code for the CLI. */
  attachTerminal(rec: SessionRecord, opts: TerminalAttachOptions): Promise<number>;
  /** Attaches as a stream object (no terminal of ours involved). */
  attach(rec: SessionRecord, opts: StreamAttachOptions): Promise<AttachStream>;
  /** Ends the agent (if running), every process that descends from it, and everything the backend keeps for it. */
  /** `keepHistory`: its recording and events stay (a restart goes on with them). */
  kill(rec: SessionRecord, opts?: { keepHistory?: boolean }): Promise<KillResult>;
  /** The task the text became (`opts.task`, pty), else null. */
  send(rec: SessionRecord, opts: SendOptions): Promise<TaskInfo | null>;
  capture(rec: SessionRecord, opts: CaptureOptions): Promise<CaptureResult>;
  wait(rec: SessionRecord, cond: WaitCondition, opts: WaitOptions): Promise<WaitResult>;
  status(rec: SessionRecord): Promise<StatusResult>;
  queueAdd(rec: SessionRecord, text: string): Promise<QueueEntry>;
  queueList(rec: SessionRecord): Promise<QueueEntry[]>;
  queueClear(rec: SessionRecord): Promise<number>;
  /**
   * The session's events after `since` (waiting up to `waitMs` for one while it runs; from
   * its events file after the end); absent where the backend keeps none (tmux).
   */
  events?(rec: SessionRecord, args: EventsArgs): Promise<EventsReply>;
  /** The session's recording; absent where the backend records nothing (tmux). */
  recording?(rec: SessionRecord): RecordingSource;
}
