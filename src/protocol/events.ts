import { MessageError, type Obj, bool, isObj, lenient, oneOf, optInt, optStr, str, strArray, uint } from './fields';

// A session's events (protocol.md §9.7), as the `events` request returns them and as
// events.jsonl keeps them: numbered from 1 for the life of the session (across restarts),
// each with its time. Types a reader does not know are skipped, not refused: a newer
// supervisor may tell more.

export type StateName = 'starting' | 'working' | 'idle' | 'blocked' | 'exited' | 'unknown';
export const STATE_NAMES: readonly StateName[] = ['starting', 'working', 'idle', 'blocked', 'exited', 'unknown'];

/** A task's receipts, in order: typed (the text), submitted (its Enter), started (the agent reacted), done (idle or blocked again). */
export type TaskState = 'queued' | 'typed' | 'submitted' | 'started' | 'done';
export const TASK_STATES: readonly TaskState[] = ['queued', 'typed', 'submitted', 'started', 'done'];

export type SessionEventBody =
  | { type: 'spawned'; command: string[]; workdir: string; restart: boolean }
  | { type: 'state'; state: StateName; from: StateName; reason: string }
  | { type: 'task'; task: number; state: TaskState }
  | { type: 'viewer'; action: 'attached' | 'detached'; readOnly: boolean; viewers: number }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'notification'; text: string; source: string }
  | { type: 'exited'; code: number | null; signal: string | null; reason: string };

export type SessionEvent = SessionEventBody & {
  /** 1, 2, … for the session's life. */
  seq: number;
  /** ms since the epoch. */
  at: number;
};

export type EventType = SessionEventBody['type'];

const T = 'event';

/** One event, checked; null for a type this version does not know. Throws MessageError for a malformed one. */
export function decodeEvent(v: unknown): SessionEvent | null {
  if (!isObj(v)) throw new MessageError('an event must be a map');
  const head = { seq: uint(v, T, 'seq', Number.MAX_SAFE_INTEGER), at: uint(v, T, 'at', Number.MAX_SAFE_INTEGER) };
  const body = decodeBody(v);
  return body === null ? null : { ...body, ...head };
}

function decodeBody(v: Obj): SessionEventBody | null {
  switch (v.type) {
    case 'spawned':
      return { type: 'spawned', command: strArray(v, T, 'command'), workdir: str(v, T, 'workdir', 4096), restart: bool(v, T, 'restart', false) };
    case 'state':
      return {
        type: 'state',
        state: lenient(v, 'state', STATE_NAMES, 'unknown'),
        from: lenient(v, 'from', STATE_NAMES, 'unknown'),
        reason: str(v, T, 'reason', 4096),
      };
    case 'task':
      return { type: 'task', task: uint(v, T, 'task'), state: oneOf(v, T, 'state', TASK_STATES) };
    case 'viewer':
      return { type: 'viewer', action: oneOf(v, T, 'action', ['attached', 'detached'] as const), readOnly: bool(v, T, 'readOnly', false), viewers: uint(v, T, 'viewers') };
    case 'resize':
      return { type: 'resize', cols: uint(v, T, 'cols'), rows: uint(v, T, 'rows') };
    case 'notification':
      return { type: 'notification', text: str(v, T, 'text', 4096), source: optStr(v, T, 'source') ?? '' };
    case 'exited':
      return { type: 'exited', code: optInt(v, T, 'code'), signal: optStr(v, T, 'signal'), reason: optStr(v, T, 'reason', 4096) ?? '' };
    default:
      if (typeof v.type !== 'string') throw new MessageError('an event needs a type');
      return null;
  }
}

/** Events in order, the unknown ones left out. */
export function decodeEvents(list: unknown): SessionEvent[] {
  if (!Array.isArray(list)) throw new MessageError('events must be an array');
  const out: SessionEvent[] = [];
  for (const v of list) {
    const e = decodeEvent(v);
    if (e) out.push(e);
  }
  return out;
}
