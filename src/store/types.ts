import type { SystemTime } from './time';

// The record format of ~/.symposium/agent-sessions.json (../shared/compat.md): the seven
// fields of the Rust tool in its order, then our own optional fields, then any unknown
// fields a newer writer left (kept, so we never drop someone else's data).

export const STATUSES = ['Starting', 'Running', 'Crashed', 'Stopped'] as const;
export type Status = (typeof STATUSES)[number];

export const BACKENDS = ['pty', 'tmux'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface SessionRecord {
  uuid: string;
  tmux_session_name: string;
  agent_command: string[];
  working_directory: string;
  status: Status;
  created_at: SystemTime;
  last_attached: SystemTime | null;
  /** Absent in files the Rust tool wrote: those sessions are tmux sessions. */
  backend?: BackendName;
  /** pty backend: the supervisor's pid. */
  supervisor_pid?: number | null;
  /** The agent's pid; it leads its own process group, so it is also the pgid to kill. */
  agent_pid?: number | null;
  exit_code?: number | null;
  exit_signal?: string | null;
  /** Why the status is what it is, e.g. "supervisor died", "gone from tmux". */
  status_reason?: string | null;
  ended_at?: SystemTime | null;
  /** pty backend: the socket its supervisor listens on, as started (another environment may compute another). */
  socket_path?: string | null;
  /** tmux backend: the socket of the tmux server that runs it (`tmux -S`), as started. */
  tmux_socket?: string | null;
  /** Unknown fields read from the file, written back unchanged after ours. */
  extra?: Record<string, unknown>;
}

export type SessionMap = Map<string, SessionRecord>;

/** Our optional fields, in the order they are written. */
export const OPTIONAL_FIELDS = [
  'backend',
  'supervisor_pid',
  'agent_pid',
  'exit_code',
  'exit_signal',
  'status_reason',
  'ended_at',
  'socket_path',
  'tmux_socket',
] as const;

export function backendOf(rec: SessionRecord): BackendName {
  return rec.backend ?? 'tmux';
}

export function isEnded(rec: SessionRecord): boolean {
  return rec.status === 'Crashed' || rec.status === 'Stopped';
}
