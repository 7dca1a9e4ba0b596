import type { SessionEvent, StateName, TaskState } from '../protocol/events';
import type { Cursor } from '../protocol/ops';
import type { BackendName, Status } from '../store/types';

// What the client library returns: plain objects, times as ISO 8601 strings, the same
// shapes the CLI prints with --json.

export type { AttachStream, Disposable, KillResult, StreamEnd } from '../backends/backend';
export type { BackendName, Status } from '../store/types';
export type { SessionEvent, StateName, TaskState } from '../protocol/events';

/** One session, as `list` and `status` see it. */
export interface AgentInfo {
  id: string;
  /** The session's display name (`symposium-agent-ID`, as the original tool named it). */
  sessionName: string;
  backend: BackendName;
  /** Starting, Running, Crashed or Stopped (the original tool's statuses). */
  status: Status;
  /** Why it ended, when it did. */
  reason: string | null;
  command: string[];
  workdir: string;
  createdAt: string;
  lastAttached: string | null;
  endedAt: string | null;
  /** The agent's process id (it leads its own process group). */
  pid: number | null;
  /** pty backend: the supervisor's process id. */
  supervisorPid: number | null;
  exitCode: number | null;
  exitSignal: string | null;
  /** The rest is known for running sessions when asked for details (list does). */
  cols: number | null;
  rows: number | null;
  viewers: number | null;
  /** working or idle, the two words of earlier versions (blocked counts as idle); see `state`. */
  activity: 'working' | 'idle' | null;
  /**
   * What the agent is doing (docs/agents.md): starting, working, idle, blocked (it asks
   * the user something), exited, unknown (tmux: by output only). Null when not asked.
   */
  state: StateName | null;
  /** Why ("quiet for 2 s", "hook: Stop", "notification: …"). */
  stateReason: string | null;
  /** Since when (ISO 8601; null: not known). */
  stateSince: string | null;
  lastOutputAt: string | null;
  /** Tasks waiting in the queue (pty). */
  queued: number | null;
  /**
   * Running sessions: false when its supervisor is stopped, or did not answer within its
   * time limit when it had to be asked (pty: `list` reads the status file a supervisor
   * keeps instead, and asks only when there is no usable one); null when not looked at.
   */
  responding: boolean | null;
}

/** `status`: a session's record and what its backend says right now. */
export interface AgentStatus extends AgentInfo {
  idleMs: number | null;
  /** The window title the agent set. */
  title: string | null;
}

export interface SpawnOptions {
  /** 1-64 letters, digits, - or _. */
  id: string;
  workdir: string;
  /** The program and its arguments. */
  command: string[];
  cols?: number;
  rows?: number;
  /** pty (default) or tmux; default from SYMPOSIUM_AGENT_BACKEND. */
  backend?: BackendName;
  /** Window size with several viewers: the latest to type (default) or the smallest. */
  sizePolicy?: 'latest' | 'smallest';
  /** Quiet time after which the agent counts as idle (default 2000). */
  idleMs?: number;
  /**
   * Record what the agent prints (pty backend; default true, false when the client's
   * environment has SYMPOSIUM_RECORD=0): `logs`, `recording`.
   */
  record?: boolean;
  /** Record what is typed into it too (default false: typing holds secrets). */
  recordInput?: boolean;
  /** How much of the recording is kept, in bytes (default 64 MiB: the last 64 MiB). */
  recordCapBytes?: number;
  /**
   * Wire a known agent's own hooks (Claude Code, Codex, aider) to the supervisor, so that
   * its state is its word (pty backend; default: `agentHooks` of ~/.symposium/config.json).
   */
  hooks?: boolean;
  /** Shell commands run when the agent turns idle, turns blocked, or exits (pty backend; default: config.json's). */
  onIdle?: string;
  onBlocked?: string;
  onExit?: string;
}

export interface RestartOptions {
  cols?: number;
  rows?: number;
  /** Run the recorded command as it is, instead of resuming a known agent's conversation. */
  fresh?: boolean;
}

/** What to type: text (pasted whole), then named keys (tmux's names: Enter, C-c, S-Enter…), then Enter. */
export interface SendInput {
  text?: string;
  keys?: string[];
  enter?: boolean;
}

export interface CaptureOptions {
  /** Only the last N lines. */
  lines?: number;
  scrollback?: boolean;
  /** Colours and attributes as SGR sequences. */
  ansi?: boolean;
  /** Only the lines from here on: the `nextLine` of an earlier capture (history included). */
  since?: number;
  /** Only what the agent printed in task N's turn (of `queue`), from its Enter to its end (or now). */
  task?: number;
}

export interface Capture {
  id: string;
  status: Status;
  text: string;
  cols: number;
  rows: number;
  cursor: Cursor | null;
  /** The agent has ended: this is its last screen. */
  final: boolean;
  /** The number of the first line of `text` in the agent's history (null: unknown, or a full-screen program). */
  firstLine: number | null;
  /** Pass it as `since` next time to read only what came after (null: this session cannot). */
  nextLine: number | null;
  /** Lines asked for with `since` that had already left the history. */
  skipped: number;
  /** A full-screen program shows its alternate screen: `text` is that screen. */
  alternate: boolean;
}

/** A queued task and its turn's receipts (ISO 8601 times). */
export interface Task {
  index: number;
  text: string;
  /** queued, typed, submitted (its Enter), started (the agent reacted), done (idle or blocked again, or ended). */
  state: TaskState;
  queuedAt: string;
  typedAt: string | null;
  submittedAt: string | null;
  startedAt: string | null;
  doneAt: string | null;
  /** What the agent was when the turn ended. */
  doneState: 'idle' | 'blocked' | 'exited' | null;
  /** `capture` with `since: firstLine` shows the turn; endLine is where it ended. */
  firstLine: number | null;
  endLine: number | null;
  /** The same as submittedAt (the name of earlier versions). */
  deliveredAt: string | null;
  /** Typed by `send … --enter` (at once), not queued. */
  sent: boolean;
}

/** One event of a session (`events`). */
export interface AgentEvent {
  /** The session it is about. */
  id: string;
  event: SessionEvent;
  /** Events of this session before this one that were no longer held (the reader fell behind): usually 0. */
  lostBefore: number;
}

export interface EventsOptions {
  /** Go on with new events (and, without ids, new sessions) until the signal aborts. */
  follow?: boolean;
  /** Only events after this time (ms since the epoch). */
  after?: number;
  signal?: AbortSignal;
}

export type WaitFor =
  /** Quiet for idleMs (default: the session's own idle time), or an explicit waiting signal. */
  | { until: 'idle'; idleMs?: number }
  | { until: 'exit' }
  /** The visible screen matches (a RegExp's source and flags are used). */
  | { until: 'text'; pattern: string | RegExp }
  /** The agent is in one of these states (`blocked`: it asks the user something). */
  | { until: 'state'; states: StateName[] }
  /** Task N (of `queue`) is done. */
  | { until: 'task'; task: number };

export interface WaitOptions {
  /** ms; none: wait as long as it takes. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface WaitOutcome {
  /** False when the timeout passed first. */
  satisfied: boolean;
  /** The agent has ended: an idle wait answers at once (there is nothing left to wait for). */
  ended: boolean;
  exitCode: number | null;
  exitSignal: string | null;
  /** For a text wait that matched: the matching text. */
  match: string | null;
  /** The state when answered (null: not known). */
  state: StateName | null;
  /** For a task wait: the task then. */
  task: Task | null;
}

export interface AttachOptions {
  cols: number;
  rows: number;
  readOnly?: boolean;
}

export interface TerminalAttachOptions {
  readOnly?: boolean;
  /** A control key such as C-\ (default), C-] or C-b. */
  detachKey?: string;
  /** Make the agent redraw after the replay even when the size does not change (pty). */
  redraw?: boolean;
  /** tmux sessions: print the attach command instead. */
  print?: boolean;
  /**
   * The detach key in the window title for the first seconds (pty). Default: on, unless
   * SYMPOSIUM_ATTACH_HINT=0 is in the environment; false turns it off, true on.
   */
  hint?: boolean;
}

export interface LogOptions {
  /** Only the last N lines (with follow: of what is there when it starts). */
  lines?: number;
  /** Only lines written since: a Date, ms since the epoch, an ISO 8601 time or a span back from now (`10m`, `2h`). */
  since?: Date | number | string;
}

/** One line of what the agent printed. */
export interface LogEntry {
  /** When it was last written to (ISO 8601). */
  time: string;
  /** Plain text: escape sequences removed, overwrites applied. */
  text: string;
}

export interface PruneResult {
  pruned: string[];
  /** Ended sessions that could not be cleaned up, with why; their records are kept. */
  failed: Array<{ id: string; error: string }>;
}
