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
}

export interface SpawnResult {
  supervisorPid: number | null;
  agentPid: number | null;
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

export interface AttachOptions {
  readOnly: boolean;
  /** The byte that detaches (pressed twice, it is sent to the agent). */
  detachKey: number;
  /** Print the command instead of attaching (tmux backend). */
  printOnly: boolean;
  /** Called once the user sees the session (records last_attached), not before. */
  onAttached: () => void;
}

export interface CaptureOptions {
  lines: number | null;
  scrollback: boolean;
  ansi: boolean;
}

export interface CaptureResult {
  text: string;
  cols: number;
  rows: number;
  cursor: { x: number; y: number } | null;
  /** True when the session has ended and this is the screen kept on disk. */
  final: boolean;
}

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
}

export type WaitCondition =
  | { until: 'idle'; idleMs: number }
  | { until: 'exit' }
  | { until: 'text'; pattern: string; flags: string };

export interface WaitResult {
  /** False when the timeout passed first. */
  satisfied: boolean;
  exitCode: number | null;
  exitSignal: string | null;
  /** The matching text, for until: 'text'. */
  match?: string;
}

export interface QueueEntry {
  index: number;
  text: string;
  state: 'queued' | 'delivered';
  queuedAt: number;
  deliveredAt: number | null;
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
  /** Returns the process exit code for the CLI. */
  attach(rec: SessionRecord, opts: AttachOptions): Promise<number>;
  /** Ends the agent (if running) and everything the backend keeps for it. */
  kill(rec: SessionRecord): Promise<void>;
  send(rec: SessionRecord, opts: SendOptions): Promise<void>;
  capture(rec: SessionRecord, opts: CaptureOptions): Promise<CaptureResult>;
  wait(rec: SessionRecord, cond: WaitCondition, timeoutMs: number | null): Promise<WaitResult>;
  queueAdd(rec: SessionRecord, text: string): Promise<QueueEntry>;
  queueList(rec: SessionRecord): Promise<QueueEntry[]>;
  queueClear(rec: SessionRecord): Promise<number>;
}
