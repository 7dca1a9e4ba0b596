import { BACKENDS, OPTIONAL_FIELDS, STATUSES, type SessionMap, type SessionRecord } from './types';
import type { SystemTime } from './time';

// Decoding checks every field and names what is wrong; encoding writes exactly the
// layout the Rust tool wrote (two-space JSON, no trailing newline, `{}` when empty).

export class FormatError extends Error {}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(where: string, what: string): never {
  throw new FormatError(`${where}: ${what}`);
}

function str(o: Obj, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`${where}.${key}`, `expected a string, found ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

function uint(v: unknown, where: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    fail(where, `expected an integer from 0 to ${max}, found ${JSON.stringify(v) ?? describe(v)}`);
  }
  return v;
}

function time(v: unknown, where: string): SystemTime {
  if (!isObj(v)) fail(where, `expected {secs_since_epoch, nanos_since_epoch}, found ${describe(v)}`);
  return {
    secs_since_epoch: uint(v.secs_since_epoch, `${where}.secs_since_epoch`),
    nanos_since_epoch: uint(v.nanos_since_epoch, `${where}.nanos_since_epoch`, 999_999_999),
  };
}

function optTime(v: unknown, where: string): SystemTime | null {
  return v === null || v === undefined ? null : time(v, where);
}

function optInt(v: unknown, where: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(where, `expected an integer or null, found ${describe(v)}`);
  return v;
}

function optStr(v: unknown, where: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') fail(where, `expected a string or null, found ${describe(v)}`);
  return v;
}

/** The Rust tool's seven fields, always written, in this order (recordToJson). */
const REQUIRED_FIELDS = ['uuid', 'tmux_session_name', 'agent_command', 'working_directory', 'status', 'created_at', 'last_attached'] as const;
const KNOWN = new Set<string>([...REQUIRED_FIELDS, ...OPTIONAL_FIELDS]);

export function decodeRecord(v: unknown, where: string): SessionRecord {
  if (!isObj(v)) fail(where, `expected an object, found ${describe(v)}`);
  const cmd = v.agent_command;
  if (!Array.isArray(cmd) || !cmd.every((a): a is string => typeof a === 'string')) {
    fail(`${where}.agent_command`, 'expected an array of strings');
  }
  const status = v.status;
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
    fail(`${where}.status`, `expected one of ${STATUSES.join(', ')}, found ${JSON.stringify(status) ?? describe(status)}`);
  }
  const rec: SessionRecord = {
    uuid: str(v, 'uuid', where),
    tmux_session_name: str(v, 'tmux_session_name', where),
    agent_command: cmd,
    working_directory: str(v, 'working_directory', where),
    status: status as SessionRecord['status'],
    created_at: time(v.created_at, `${where}.created_at`),
    last_attached: optTime(v.last_attached, `${where}.last_attached`),
  };
  if (v.backend !== undefined && v.backend !== null) {
    if (typeof v.backend !== 'string' || !(BACKENDS as readonly string[]).includes(v.backend)) {
      fail(`${where}.backend`, `expected one of ${BACKENDS.join(', ')}`);
    }
    rec.backend = v.backend as SessionRecord['backend'];
  }
  if ('supervisor_pid' in v) rec.supervisor_pid = optInt(v.supervisor_pid, `${where}.supervisor_pid`);
  if ('agent_pid' in v) rec.agent_pid = optInt(v.agent_pid, `${where}.agent_pid`);
  if ('exit_code' in v) rec.exit_code = optInt(v.exit_code, `${where}.exit_code`);
  if ('exit_signal' in v) rec.exit_signal = optStr(v.exit_signal, `${where}.exit_signal`);
  if ('status_reason' in v) rec.status_reason = optStr(v.status_reason, `${where}.status_reason`);
  if ('ended_at' in v) rec.ended_at = optTime(v.ended_at, `${where}.ended_at`);
  if ('socket_path' in v) rec.socket_path = optStr(v.socket_path, `${where}.socket_path`);
  if ('tmux_socket' in v) rec.tmux_socket = optStr(v.tmux_socket, `${where}.tmux_socket`);
  const extra: Obj = {};
  for (const [k, val] of Object.entries(v)) if (!KNOWN.has(k)) extra[k] = val;
  if (Object.keys(extra).length > 0) rec.extra = extra;
  return rec;
}

export function decodeFile(text: string): SessionMap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FormatError(`not valid JSON (${(err as Error).message})`);
  }
  if (!isObj(parsed)) throw new FormatError(`expected a JSON object keyed by agent id, found ${describe(parsed)}`);
  const map: SessionMap = new Map();
  for (const [id, value] of Object.entries(parsed)) {
    map.set(id, decodeRecord(value, JSON.stringify(id)));
  }
  return map;
}

function recordToJson(rec: SessionRecord): Obj {
  const out: Obj = {
    uuid: rec.uuid,
    tmux_session_name: rec.tmux_session_name,
    agent_command: rec.agent_command,
    working_directory: rec.working_directory,
    status: rec.status,
    created_at: rec.created_at,
    last_attached: rec.last_attached,
  };
  for (const k of OPTIONAL_FIELDS) if (rec[k] !== undefined) out[k] = rec[k];
  if (rec.extra) for (const [k, v] of Object.entries(rec.extra)) if (!(k in out)) out[k] = v;
  return out;
}

export function encodeFile(map: SessionMap): string {
  const obj: Obj = {};
  for (const [id, rec] of map) obj[id] = recordToJson(rec);
  return JSON.stringify(obj, null, 2);
}

/**
 * encodeFile(a) === encodeFile(b), without encoding either: every command compares what
 * it would save with what it read, and two encodings of the whole file (~45 KB each at
 * 100 sessions, for a file that almost never changed) were ~0.4 MB of garbage.
 */
export function sameFile(a: SessionMap, b: SessionMap): boolean {
  if (a.size !== b.size) return false;
  const other = b.entries();
  for (const [id, rec] of a) {
    const next = other.next();
    if (next.done || next.value[0] !== id || !sameRecord(rec, next.value[1])) return false;
  }
  return true;
}

/** recordToJson(a) and recordToJson(b) written the same (compared as objects: no text made). */
function sameRecord(a: SessionRecord, b: SessionRecord): boolean {
  return sameJson(recordToJson(a), recordToJson(b));
}

/** Equal once written as JSON: the same keys in the same order (those holding undefined are not written), equal values. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => sameJson(v, b[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Obj)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Obj)[k] !== undefined);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameJson((a as Obj)[k], (b as Obj)[k]));
}
