import * as path from 'node:path';
import { readFileNoFollow } from '../sys/read-file';
import { type RecordingSettings, decodeRecordingSettings } from '../recording/settings';

// Files a pty session keeps in its directory (~/.symposium/sessions/ID/), written by the
// supervisor and read by the CLI: the supervisor's config, its log, the exit record and
// the final screen (so `capture` works after the agent exited), and the task queue.

/** The files a pty session keeps in its directory (~/.symposium/sessions/ID/). */
export interface SessionFiles {
  dir: string;
  /** The supervisor's config (supervisor.json). */
  config: string;
  log: string;
  exit: string;
  screen: string;
  /** The task queue's journal (queue-file.ts). */
  queueJournal: string;
  /** The task queue as a previous version wrote it (read when there is no journal). */
  queue: string;
  /** The session's events, one JSON line each (events-file.ts). */
  events: string;
}

export function sessionFilesIn(dir: string): SessionFiles {
  return {
    dir,
    config: path.join(dir, 'supervisor.json'),
    log: path.join(dir, 'supervisor.log'),
    exit: path.join(dir, 'exit.json'),
    screen: path.join(dir, 'final-screen.json'),
    queueJournal: path.join(dir, 'queue.jsonl'),
    queue: path.join(dir, 'queue.json'),
    events: path.join(dir, 'events.jsonl'),
  };
}

/**
 * Where a supervisor leaves the exit record and the final screen when the session's
 * directory cannot take them (a full or read-only disk): beside its socket, in the
 * runtime directory (a tmpfs, usually), named after the socket.
 */
export interface FallbackFiles {
  exit: string;
  screen: string;
}

export function fallbackFilesOf(socketPath: string): FallbackFiles {
  const base = socketPath.replace(/\.sock$/, '');
  return { exit: `${base}.exit.json`, screen: `${base}.screen.json` };
}

export interface SupervisorConfig {
  id: string;
  workdir: string;
  command: string[];
  cols: number;
  rows: number;
  sizePolicy: 'latest' | 'smallest';
  idleMs: number;
  socketPath: string;
  sessionDir: string;
  scrollbackLines: number;
  /** Bound on the scrollback in bytes (approximate: ~12 bytes per cell). */
  scrollbackBytes: number;
  /** Identifies the session incarnation (created_at in ms), for adoption after file loss. */
  createdAtMs: number;
  /** The home's agent-sessions.json, where the supervisor records the exit (absent before 0.2). */
  sessionsFile?: string;
  /** What the session records (absent before recordings: nothing). */
  recording?: RecordingSettings;
  /** Started by `restart` (the `spawned` event says so). */
  restart?: boolean;
  /** Hooks (absent before states: none). */
  hooks?: SessionHooks;
}

/** The agent's own hooks wired to the supervisor, and the user's commands on its states. */
export interface SessionHooks {
  /** Wire a known agent's hooks (known-agents.ts) to the supervisor (`spawn --hooks`). */
  agent: boolean;
  /** Shell commands run when the agent turns idle, turns blocked, or exits. */
  onIdle: string | null;
  onBlocked: string | null;
  onExit: string | null;
}

const optCmd = (v: unknown): boolean => v === null || (typeof v === 'string' && v.length <= 4096);

function isHooks(v: unknown): v is SessionHooks {
  return isObj(v) && typeof v.agent === 'boolean' && optCmd(v.onIdle) && optCmd(v.onBlocked) && optCmd(v.onExit);
}

/** The session file a supervisor records its exit in. */
export function sessionsFileOf(c: SupervisorConfig): string {
  // Configs without it have their directory at HOME/sessions/ID.
  return c.sessionsFile ?? path.join(path.dirname(path.dirname(c.sessionDir)), 'agent-sessions.json');
}

export interface ExitRecord {
  code: number | null;
  signal: string | null;
  /** ms since the epoch */
  endedAt: number;
  reason: string;
}

export interface FinalScreen {
  cols: number;
  rows: number;
  cursor: { x: number; y: number };
  /** Plain lines: scrollback then screen. */
  lines: string[];
  /** How many of `lines` are scrollback. */
  scrollbackLines: number;
  /** The same lines with colours and attributes (as `capture --ansi`). */
  ansiLines: string[];
  /** The absolute number of lines[0] in the agent's history (absent before 0.2: 0). */
  firstLine: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileNoFollow(file)) as unknown;
  } catch {
    return undefined;
  }
}

export function readSupervisorConfig(file: string): SupervisorConfig | null {
  const v = readJson(file);
  if (!isObj(v)) return null;
  const ok =
    typeof v.id === 'string' &&
    typeof v.workdir === 'string' &&
    isStrArr(v.command) &&
    isInt(v.cols) &&
    isInt(v.rows) &&
    (v.sizePolicy === 'latest' || v.sizePolicy === 'smallest') &&
    isInt(v.idleMs) &&
    typeof v.socketPath === 'string' &&
    typeof v.sessionDir === 'string' &&
    isInt(v.scrollbackLines) &&
    isInt(v.scrollbackBytes) &&
    isInt(v.createdAtMs) &&
    (v.recording === undefined || decodeRecordingSettings(v.recording) !== null) &&
    (v.hooks === undefined || isHooks(v.hooks)) &&
    (v.restart === undefined || typeof v.restart === 'boolean');
  return ok ? (v as unknown as SupervisorConfig) : null;
}

export function readExitRecord(file: string): ExitRecord | null {
  const v = readJson(file);
  if (!isObj(v)) return null;
  if (!(v.code === null || isInt(v.code)) || !(v.signal === null || typeof v.signal === 'string')) return null;
  if (!isInt(v.endedAt) || typeof v.reason !== 'string') return null;
  return { code: v.code, signal: v.signal, endedAt: v.endedAt, reason: v.reason };
}

export function readFinalScreen(file: string): FinalScreen | null {
  const v = readJson(file);
  if (!isObj(v) || !isInt(v.cols) || !isInt(v.rows) || !isStrArr(v.lines) || !isInt(v.scrollbackLines)) return null;
  const c = v.cursor;
  if (!isObj(c) || !isInt(c.x) || !isInt(c.y)) return null;
  if (!isStrArr(v.ansiLines) || v.ansiLines.length !== v.lines.length) return null;
  return {
    cols: v.cols,
    rows: v.rows,
    cursor: { x: c.x, y: c.y },
    lines: v.lines,
    scrollbackLines: v.scrollbackLines,
    ansiLines: v.ansiLines,
    firstLine: isInt(v.firstLine) && v.firstLine >= 0 ? v.firstLine : 0,
  };
}
