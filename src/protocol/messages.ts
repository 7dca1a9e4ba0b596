// Every message of the wire protocol, both directions, and the checks that turn a decoded
// msgpack value into one of them. protocol.md is the prose version of this file.

export const PROTOCOL_VERSION = 1;
/** Features this implementation speaks; a peer ignores names it does not know. */
export const FEATURES = ['snapshot-seq', 'read-only', 'resync', 'requests', 'queue', 'wait', 'terminal'] as const;

export type Mode = 'attach' | 'control';

// ---- client → supervisor ----------------------------------------------------------

export interface Hello {
  t: 'hello';
  protocol: number;
  client: string;
  mode: Mode;
  readOnly: boolean;
  cols: number | null;
  rows: number | null;
  features: string[];
  /** Hand-over (attach only): the client's terminal, for the supervisor to drive itself. */
  terminal: TerminalHandover | null;
}
/**
 * The client's terminal device: a path to open, and the identity (st_dev, st_ino) of the
 * file the client holds, which the opened file must match. The detach key is the byte
 * that, pressed alone, ends the attach (pressed twice, it goes to the agent once).
 */
export interface TerminalHandover {
  path: string;
  dev: number;
  ino: number;
  detachKey: number;
}
export interface Input {
  t: 'input';
  data: Uint8Array;
}
export interface Resize {
  t: 'resize';
  cols: number;
  rows: number;
}
export interface Detach {
  t: 'detach';
}

export type RequestOp =
  | { op: 'status' }
  | { op: 'capture'; lines: number | null; scrollback: boolean; ansi: boolean }
  | { op: 'send'; data: Uint8Array; paste: boolean; keys: Uint8Array[] }
  | { op: 'kill'; graceMs: number }
  | { op: 'queue-add'; text: string }
  | { op: 'queue-list' }
  | { op: 'queue-clear' }
  | { op: 'wait'; until: 'idle'; idleMs: number; timeoutMs: number | null }
  | { op: 'wait'; until: 'exit'; timeoutMs: number | null }
  | { op: 'wait'; until: 'text'; pattern: string; flags: string; timeoutMs: number | null };

export type Request = { t: 'request'; id: number } & RequestOp;

export type ClientMessage = Hello | Input | Resize | Detach | Request;

// ---- supervisor → client ----------------------------------------------------------

export interface SessionInfo {
  id: string;
  supervisorPid: number;
  agentPid: number;
  cols: number;
  rows: number;
  viewerId: number;
  readOnly: boolean;
  /** The supervisor drives the viewer's terminal itself (hand-over accepted). */
  terminal: boolean;
  /** Why a requested hand-over was refused (the client then relays the stream itself). */
  terminalError: string | null;
}
export interface Welcome {
  t: 'welcome';
  protocol: number;
  server: string;
  features: string[];
  session: SessionInfo;
}
export interface Snapshot {
  t: 'snapshot';
  seq: number;
  cols: number;
  rows: number;
  reason: 'attach' | 'resync';
  data: string;
}
/** Hand-over: the snapshot (then the chunks after it) has been written to the viewer's terminal. */
export interface Shown {
  t: 'shown';
  seq: number;
  cols: number;
  rows: number;
  reason: 'attach' | 'resync';
}
/** Hand-over: the detach key was pressed; the supervisor has let go of the terminal. */
export interface Detached {
  t: 'detached';
  reason: 'key';
}
export interface Output {
  t: 'output';
  seq: number;
  data: Uint8Array;
}
export interface SizeMsg {
  t: 'size';
  cols: number;
  rows: number;
}
export interface ExitMsg {
  t: 'exit';
  code: number | null;
  signal: string | null;
}
export type ErrorCode =
  | 'version-mismatch'
  | 'frame-too-large'
  | 'frame-empty'
  | 'malformed'
  | 'bad-message'
  | 'hello-required'
  | 'read-only'
  | 'bad-request'
  | 'exited'
  | 'timeout'
  | 'unsupported'
  | 'busy'
  | 'pattern-too-slow'
  | 'internal';
export interface ErrorMsg {
  t: 'error';
  code: ErrorCode;
  message: string;
}
export interface Response {
  t: 'response';
  id: number;
  ok: boolean;
  result: Record<string, unknown> | null;
  error: { code: ErrorCode; message: string } | null;
}

export type ServerMessage = Welcome | Snapshot | Shown | Detached | Output | SizeMsg | ExitMsg | ErrorMsg | Response;

// ---- decoding ---------------------------------------------------------------------

export class MessageError extends Error {}

/**
 * A well-formed request whose op (or wait condition) this supervisor does not know: it is
 * answered with an `unsupported` response, and the connection carries on (a newer client
 * may ask for things an older supervisor cannot do).
 */
export class UnsupportedRequest extends MessageError {
  constructor(
    readonly id: number,
    message: string,
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
function bad(t: string, field: string, want: string): never {
  throw new MessageError(`${t}.${field} must be ${want}`);
}
function uint(o: Obj, t: string, f: string, max = 0xffffffff): number {
  const v = o[f];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) bad(t, f, `an integer from 0 to ${max}`);
  return v;
}
function optUint(o: Obj, t: string, f: string, max = 0xffffffff): number | null {
  return o[f] === undefined || o[f] === null ? null : uint(o, t, f, max);
}
function optInt(o: Obj, t: string, f: string): number | null {
  const v = o[f];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(t, f, 'an integer or nil');
  return v;
}
function str(o: Obj, t: string, f: string, maxLen = 1 << 20): string {
  const v = o[f];
  if (typeof v !== 'string' || v.length > maxLen) bad(t, f, 'a string');
  return v;
}
function optStr(o: Obj, t: string, f: string): string | null {
  return o[f] === undefined || o[f] === null ? null : str(o, t, f);
}
function bool(o: Obj, t: string, f: string, dflt: boolean): boolean {
  const v = o[f];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') bad(t, f, 'a boolean');
  return v;
}
function bin(o: Obj, t: string, f: string): Uint8Array {
  const v = o[f];
  if (v instanceof Uint8Array) return v;
  // A string is accepted as its UTF-8 bytes: handy for hand-written clients.
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  bad(t, f, 'binary (or a string)');
}

/** Keys after a send: at most 256 of them, each binary (or a string). */
function binArray(o: Obj, t: string, f: string): Uint8Array[] {
  const v = o[f];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > 256) bad(t, f, 'an array of at most 256 binaries');
  return v.map((x) => {
    if (x instanceof Uint8Array) return x;
    if (typeof x === 'string') return Buffer.from(x, 'utf8');
    return bad(t, f, 'an array of binaries (or strings)');
  });
}
function strArray(o: Obj, t: string, f: string): string[] {
  const v = o[f];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) bad(t, f, 'an array of strings');
  return v;
}
/** Terminal sizes: 1 to 1000 (tmux allows up to 10000; nobody needs more than 1000). */
const MAX_DIM = 1000;
function dim(o: Obj, t: string, f: string): number {
  const v = uint(o, t, f, MAX_DIM);
  if (v < 1) bad(t, f, `from 1 to ${MAX_DIM}`);
  return v;
}
function optDim(o: Obj, t: string, f: string): number | null {
  return o[f] === undefined || o[f] === null ? null : dim(o, t, f);
}

function optHandover(o: Obj, t: string): TerminalHandover | null {
  const v = o.terminal;
  if (v === undefined || v === null) return null;
  if (!isObj(v)) bad(t, 'terminal', 'a map or nil');
  const f = `${t}.terminal`;
  const path = str(v, f, 'path', 4096);
  if (!path.startsWith('/')) bad(f, 'path', 'an absolute path');
  return {
    path,
    dev: uint(v, f, 'dev', Number.MAX_SAFE_INTEGER),
    ino: uint(v, f, 'ino', Number.MAX_SAFE_INTEGER),
    detachKey: optUint(v, f, 'detachKey', 255) ?? 0x1c,
  };
}

/** The message type of a decoded value, or null when it has none. */
export function messageType(v: unknown): string | null {
  return isObj(v) && typeof v.t === 'string' ? v.t : null;
}

const CLIENT_TYPES = new Set(['hello', 'input', 'resize', 'detach', 'request']);

/**
 * Decodes a client message. Returns null for a well-formed map of an unknown type
 * (ignored, for forward compatibility); throws MessageError for anything malformed.
 */
export function decodeClientMessage(v: unknown): ClientMessage | null {
  if (!isObj(v)) throw new MessageError('a message must be a map');
  const t = v.t;
  if (typeof t !== 'string') throw new MessageError('a message must have a string field "t"');
  if (!CLIENT_TYPES.has(t)) return null;
  switch (t) {
    case 'hello': {
      const protocol = uint(v, t, 'protocol');
      if (protocol !== PROTOCOL_VERSION) {
        // Another version's hello may hold fields we cannot check: only its version
        // matters, so that it gets a version-mismatch error rather than bad-message.
        const client = typeof v.client === 'string' ? v.client.slice(0, 200) : 'unknown';
        return { t, protocol, client, mode: 'control', readOnly: true, cols: null, rows: null, features: [], terminal: null };
      }
      const mode = v.mode ?? 'attach';
      if (mode !== 'attach' && mode !== 'control') bad(t, 'mode', '"attach" or "control"');
      return {
        t,
        protocol,
        client: optStr(v, t, 'client') ?? 'unknown',
        mode,
        readOnly: bool(v, t, 'readOnly', false),
        cols: optDim(v, t, 'cols'),
        rows: optDim(v, t, 'rows'),
        features: strArray(v, t, 'features'),
        terminal: mode === 'attach' ? optHandover(v, t) : null,
      };
    }
    case 'input':
      return { t, data: bin(v, t, 'data') };
    case 'resize':
      return { t, cols: dim(v, t, 'cols'), rows: dim(v, t, 'rows') };
    case 'detach':
      return { t };
    default:
      return decodeRequest(v);
  }
}

/** Node timers fire at once (and warn) past 2^31-1 ms: a longer wait would spin the supervisor. */
const MAX_TIMER_MS = 0x7fffffff;

function decodeRequest(v: Obj): Request {
  const t = 'request';
  const id = uint(v, t, 'id');
  const op = v.op;
  const timeoutMs = optUint(v, t, 'timeoutMs', MAX_TIMER_MS);
  switch (op) {
    case 'status':
    case 'queue-list':
    case 'queue-clear':
      return { t, id, op };
    case 'capture':
      return {
        t,
        id,
        op,
        lines: optUint(v, t, 'lines', 1_000_000),
        scrollback: bool(v, t, 'scrollback', false),
        ansi: bool(v, t, 'ansi', false),
      };
    case 'send':
      return { t, id, op, data: bin(v, t, 'data'), paste: bool(v, t, 'paste', false), keys: binArray(v, t, 'keys') };
    case 'kill':
      return { t, id, op, graceMs: optUint(v, t, 'graceMs', 600_000) ?? 3000 };
    case 'queue-add':
      return { t, id, op, text: str(v, t, 'text', 8 << 20) };
    case 'wait': {
      const until = v.until;
      if (until === 'idle') return { t, id, op, until, idleMs: uint(v, t, 'idleMs', MAX_TIMER_MS), timeoutMs };
      if (until === 'exit') return { t, id, op, until, timeoutMs };
      if (until === 'text') {
        return { t, id, op, until, pattern: str(v, t, 'pattern', 4096), flags: optStr(v, t, 'flags') ?? '', timeoutMs };
      }
      if (typeof until === 'string') throw new UnsupportedRequest(id, `wait until ${JSON.stringify(until.slice(0, 100))} is not supported`);
      return bad(t, 'until', '"idle", "exit" or "text"');
    }
    default:
      if (typeof op === 'string') throw new UnsupportedRequest(id, `request op ${JSON.stringify(op.slice(0, 100))} is not supported`);
      return bad(t, 'op', 'a string');
  }
}

const SERVER_TYPES = new Set(['welcome', 'snapshot', 'shown', 'detached', 'output', 'size', 'exit', 'error', 'response']);

/** Decodes a supervisor message; null for an unknown type (ignored). */
export function decodeServerMessage(v: unknown): ServerMessage | null {
  if (!isObj(v)) throw new MessageError('a message must be a map');
  const t = v.t;
  if (typeof t !== 'string') throw new MessageError('a message must have a string field "t"');
  if (!SERVER_TYPES.has(t)) return null;
  switch (t) {
    case 'welcome': {
      const s = v.session;
      if (!isObj(s)) bad(t, 'session', 'a map');
      return {
        t,
        protocol: uint(v, t, 'protocol'),
        server: optStr(v, t, 'server') ?? 'unknown',
        features: strArray(v, t, 'features'),
        session: {
          id: str(s, 'welcome.session', 'id'),
          supervisorPid: uint(s, 'welcome.session', 'supervisorPid'),
          agentPid: uint(s, 'welcome.session', 'agentPid'),
          cols: dim(s, 'welcome.session', 'cols'),
          rows: dim(s, 'welcome.session', 'rows'),
          viewerId: uint(s, 'welcome.session', 'viewerId'),
          readOnly: bool(s, 'welcome.session', 'readOnly', false),
          terminal: bool(s, 'welcome.session', 'terminal', false),
          terminalError: optStr(s, 'welcome.session', 'terminalError'),
        },
      };
    }
    case 'snapshot': {
      const reason = v.reason === 'resync' ? 'resync' : 'attach';
      return {
        t,
        seq: uint(v, t, 'seq', Number.MAX_SAFE_INTEGER),
        cols: dim(v, t, 'cols'),
        rows: dim(v, t, 'rows'),
        reason,
        data: str(v, t, 'data', 64 << 20),
      };
    }
    case 'shown':
      return {
        t,
        seq: uint(v, t, 'seq', Number.MAX_SAFE_INTEGER),
        cols: dim(v, t, 'cols'),
        rows: dim(v, t, 'rows'),
        reason: v.reason === 'resync' ? 'resync' : 'attach',
      };
    case 'detached':
      return { t, reason: 'key' };
    case 'output':
      return { t, seq: uint(v, t, 'seq', Number.MAX_SAFE_INTEGER), data: bin(v, t, 'data') };
    case 'size':
      return { t, cols: dim(v, t, 'cols'), rows: dim(v, t, 'rows') };
    case 'exit':
      return { t, code: optInt(v, t, 'code'), signal: optStr(v, t, 'signal') };
    case 'error':
      return { t, code: str(v, t, 'code') as ErrorCode, message: str(v, t, 'message') };
    default: {
      const ok = bool(v, t, 'ok', false);
      const result = v.result;
      const error = v.error;
      return {
        t: 'response',
        id: uint(v, t, 'id'),
        ok,
        result: isObj(result) ? result : null,
        error: isObj(error)
          ? { code: str(error, 'response.error', 'code') as ErrorCode, message: str(error, 'response.error', 'message') }
          : null,
      };
    }
  }
}
