import { STATE_NAMES, type StateName } from '../protocol/events';
import { readFileOrNull } from '../sys/read-file';

// HASH-ID.status.json, beside the socket in the runtime directory: what a live supervisor
// publishes of its status for `agent list`, so that listing a hundred agents reads a
// hundred small files instead of making a hundred socket round trips (each 1.6-3.1 ms of
// a supervisor's CPU plus the client's connection). The supervisor replaces it atomically
// when something `list` shows changes (supervisor/status/publisher.ts), and removes it when it exits.
// It is the supervisor's word only while that supervisor lives: a reader checks that its
// pid is still that process first (its start time, one read of /proc), and asks on the socket when the file is missing,
// malformed, of another version, or its writer is stopped (backends/pty/index.ts). In the
// runtime directory (a tmpfs, usually) like the socket: written without touching a disk,
// gone at reboot, and a full or read-only home does not leave a stale one behind.

/** The file's layout; a reader ignores a file of another version (and asks instead). */
export const LIVE_STATUS_VERSION = 1;

export interface LiveStatus {
  v: typeof LIVE_STATUS_VERSION;
  id: string;
  /** The run's created_at in ms (its supervisor.json's createdAtMs). */
  createdAtMs: number;
  supervisorPid: number;
  /** The supervisor's start time as /proc/PID/stat gives it (clock ticks since boot): with the pid, it names the writer. */
  supervisorStarted: string;
  agentPid: number;
  cols: number;
  rows: number;
  viewers: number;
  /**
   * ms since the epoch; null before any output. Coarse while output flows (written again
   * only once it moved by OUTPUT_TIME_STEP_MS), exact once the state changes.
   */
  lastOutputAt: number | null;
  activity: 'idle' | 'working' | null;
  state: StateName;
  stateReason: string;
  stateSince: number | null;
  queued: number;
  ended: boolean;
  exitCode: number | null;
  exitSignal: string | null;
}

/** The status file of the supervisor listening on `socketPath`. */
export function liveStatusFileOf(socketPath: string): string {
  return `${socketPath.replace(/\.sock$/, '')}.status.json`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isDim = (v: unknown): v is number => isUint(v) && v >= 1 && v <= 10_000;
const optUint = (v: unknown): v is number | null => v === null || isUint(v);
const optStr = (v: unknown, max: number): v is string | null => v === null || (typeof v === 'string' && v.length <= max);

/** The file decoded and checked, or null (missing, unreadable, malformed, another version). */
export function readLiveStatus(file: string): LiveStatus | null {
  const text = readFileOrNull(file);
  if (text === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null; // cut short or not ours: ask instead
  }
  return decodeLiveStatus(v);
}

export function decodeLiveStatus(v: unknown): LiveStatus | null {
  if (!isObj(v) || v.v !== LIVE_STATUS_VERSION) return null;
  const ok =
    typeof v.id === 'string' &&
    isUint(v.createdAtMs) &&
    isUint(v.supervisorPid) &&
    typeof v.supervisorStarted === 'string' &&
    /^\d{1,20}$/.test(v.supervisorStarted) &&
    isUint(v.agentPid) &&
    isDim(v.cols) &&
    isDim(v.rows) &&
    isUint(v.viewers) &&
    optUint(v.lastOutputAt) &&
    (v.activity === null || v.activity === 'idle' || v.activity === 'working') &&
    typeof v.state === 'string' &&
    (STATE_NAMES as readonly string[]).includes(v.state) &&
    typeof v.stateReason === 'string' &&
    v.stateReason.length <= 4096 &&
    optUint(v.stateSince) &&
    isUint(v.queued) &&
    typeof v.ended === 'boolean' &&
    (v.exitCode === null || (typeof v.exitCode === 'number' && Number.isInteger(v.exitCode))) &&
    optStr(v.exitSignal, 64);
  if (!ok) return null;
  return {
    v: LIVE_STATUS_VERSION,
    id: v.id as string,
    createdAtMs: v.createdAtMs as number,
    supervisorPid: v.supervisorPid as number,
    supervisorStarted: v.supervisorStarted as string,
    agentPid: v.agentPid as number,
    cols: v.cols as number,
    rows: v.rows as number,
    viewers: v.viewers as number,
    lastOutputAt: v.lastOutputAt as number | null,
    activity: v.activity as LiveStatus['activity'],
    state: v.state as StateName,
    stateReason: v.stateReason as string,
    stateSince: v.stateSince as number | null,
    queued: v.queued as number,
    ended: v.ended as boolean,
    exitCode: v.exitCode as number | null,
    exitSignal: v.exitSignal as string | null,
  };
}
