import {
  MessageError,
  type Obj,
  bad,
  bin,
  bool,
  dim,
  isObj,
  optDim,
  optInt,
  optStr,
  optUint,
  str,
  strArray,
  uint,
} from './fields';
import { type OpCall, type OpName, type ArgsOf, decodeCall } from './ops';

// Every message of the wire protocol, both directions, and the decoders that turn a
// decoded msgpack value into one of them: one decoder per message type, in a table the
// compiler checks against the type (a message type without a decoder does not compile).
// protocol.md is the prose version of this file and of ops.ts.

export { MessageError } from './fields';
export { UnsupportedRequest } from './ops';

export const PROTOCOL_VERSION = 1;
/** Features this implementation speaks; a peer ignores names it does not know. */
/** The welcome feature of a supervisor that writes the session's last_attached itself (protocol.md §4). */
export const RECORDS_ATTACH = 'records-attach';
export const FEATURES = ['snapshot-seq', 'read-only', 'resync', 'requests', 'queue', 'wait', 'terminal', 'key-modes', 'redraw', 'key-names', 'records-attach'] as const;

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
  /** Attach only: make the agent redraw after the snapshot even when the size does not change. */
  redraw: boolean;
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
  /** A window title the supervisor shows for the first seconds after the replay (the attach hint), then takes back; null: none. */
  hint: string | null;
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
/** Viewers: repaint this viewer from the screen, and make the agent redraw (writable viewers). */
export interface Redraw {
  t: 'redraw';
}

/** A control request: an op of ops.ts and its arguments (on the wire, fields of this map). */
export interface Request {
  t: 'request';
  id: number;
  call: OpCall;
}

export type ClientMessage = Hello | Input | Resize | Detach | Redraw | Request;

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
  /**
   * What to write to the terminal, before the reset of §8.2, on leaving or before the next
   * snapshot: it undoes the keyboard modes this snapshot set (null from older supervisors).
   */
  leave: string | null;
}
/** The keyboard modes changed: what now undoes them (replaces the last snapshot's `leave`). */
export interface Leave {
  t: 'leave';
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
  | 'storage'
  | 'internal';
/**
 * A failure with a protocol error code: what a supervisor answers a request with, and
 * what a client rejects with when the supervisor said so (or, `timeout` and `closed`,
 * when the connection did not get an answer).
 */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode | 'closed',
    message: string,
  ) {
    super(message);
  }
}

export interface ErrorMsg {
  t: 'error';
  code: ErrorCode;
  message: string;
}
export interface Response {
  t: 'response';
  id: number;
  ok: boolean;
  /** Decoded by the op's own reply decoder (ops.ts), by whoever asked. */
  result: unknown;
  error: { code: ErrorCode; message: string } | null;
}

export type ServerMessage = Welcome | Snapshot | Leave | Shown | Detached | Output | SizeMsg | ExitMsg | ErrorMsg | Response;

// ---- decoding ---------------------------------------------------------------------

type Decoders<M extends { t: string }> = { readonly [T in M['t']]: (v: Obj) => Extract<M, { t: T }> };

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
    hint: optStr(v, f, 'hint', 1024),
  };
}

const CLIENT_DECODERS: Decoders<ClientMessage> = {
  hello(v) {
    const t = 'hello';
    const protocol = uint(v, t, 'protocol');
    if (protocol !== PROTOCOL_VERSION) {
      // Another version's hello may hold fields we cannot check: only its version
      // matters, so that it gets a version-mismatch error rather than bad-message.
      const client = typeof v.client === 'string' ? v.client.slice(0, 200) : 'unknown';
      return { t, protocol, client, mode: 'control', readOnly: true, cols: null, rows: null, features: [], terminal: null, redraw: false };
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
      redraw: bool(v, t, 'redraw', false),
    };
  },
  input: (v) => ({ t: 'input', data: bin(v, 'input', 'data') }),
  resize: (v) => ({ t: 'resize', cols: dim(v, 'resize', 'cols'), rows: dim(v, 'resize', 'rows') }),
  detach: () => ({ t: 'detach' }),
  redraw: () => ({ t: 'redraw' }),
  request(v) {
    const id = uint(v, 'request', 'id');
    return { t: 'request', id, call: decodeCall(v, id) };
  },
};

const SERVER_DECODERS: Decoders<ServerMessage> = {
  welcome(v) {
    const t = 'welcome';
    const s = v.session;
    if (!isObj(s)) bad(t, 'session', 'a map');
    const w = 'welcome.session';
    return {
      t,
      protocol: uint(v, t, 'protocol'),
      server: optStr(v, t, 'server') ?? 'unknown',
      features: strArray(v, t, 'features'),
      session: {
        id: str(s, w, 'id'),
        supervisorPid: uint(s, w, 'supervisorPid'),
        agentPid: uint(s, w, 'agentPid'),
        cols: dim(s, w, 'cols'),
        rows: dim(s, w, 'rows'),
        viewerId: uint(s, w, 'viewerId'),
        readOnly: bool(s, w, 'readOnly', false),
        terminal: bool(s, w, 'terminal', false),
        terminalError: optStr(s, w, 'terminalError'),
      },
    };
  },
  snapshot: (v) => ({
    t: 'snapshot',
    seq: uint(v, 'snapshot', 'seq', Number.MAX_SAFE_INTEGER),
    cols: dim(v, 'snapshot', 'cols'),
    rows: dim(v, 'snapshot', 'rows'),
    reason: v.reason === 'resync' ? 'resync' : 'attach',
    data: str(v, 'snapshot', 'data', 64 << 20),
    leave: optStr(v, 'snapshot', 'leave', 1 << 16),
  }),
  leave: (v) => ({ t: 'leave', data: str(v, 'leave', 'data', 1 << 16) }),
  shown: (v) => ({
    t: 'shown',
    seq: uint(v, 'shown', 'seq', Number.MAX_SAFE_INTEGER),
    cols: dim(v, 'shown', 'cols'),
    rows: dim(v, 'shown', 'rows'),
    reason: v.reason === 'resync' ? 'resync' : 'attach',
  }),
  detached: () => ({ t: 'detached', reason: 'key' }),
  output: (v) => ({ t: 'output', seq: uint(v, 'output', 'seq', Number.MAX_SAFE_INTEGER), data: bin(v, 'output', 'data') }),
  size: (v) => ({ t: 'size', cols: dim(v, 'size', 'cols'), rows: dim(v, 'size', 'rows') }),
  exit: (v) => ({ t: 'exit', code: optInt(v, 'exit', 'code'), signal: optStr(v, 'exit', 'signal') }),
  error: (v) => ({ t: 'error', code: str(v, 'error', 'code') as ErrorCode, message: str(v, 'error', 'message') }),
  response(v) {
    const t = 'response';
    const error = v.error;
    return {
      t,
      id: uint(v, t, 'id'),
      ok: bool(v, t, 'ok', false),
      result: v.result ?? null,
      error: isObj(error) ? { code: str(error, 'response.error', 'code') as ErrorCode, message: str(error, 'response.error', 'message') } : null,
    };
  },
};

/** The message types each side sends, in the order protocol.md describes them. */
export const CLIENT_MESSAGE_TYPES = Object.keys(CLIENT_DECODERS) as Array<ClientMessage['t']>;
export const SERVER_MESSAGE_TYPES = Object.keys(SERVER_DECODERS) as Array<ServerMessage['t']>;

function decodeWith<M extends { t: string }>(decoders: Decoders<M>, v: unknown): M | null {
  if (!isObj(v)) throw new MessageError('a message must be a map');
  const t = v.t;
  if (typeof t !== 'string') throw new MessageError('a message must have a string field "t"');
  // An own key only: `t: "constructor"` is an unknown type, not Object's.
  if (!Object.prototype.hasOwnProperty.call(decoders, t)) return null;
  return (decoders as unknown as Record<string, (v: Obj) => M>)[t]!(v);
}

/**
 * Decodes a client message. Returns null for a well-formed map of an unknown type
 * (ignored, for forward compatibility); throws MessageError for anything malformed and
 * UnsupportedRequest for a request whose op is unknown.
 */
export function decodeClientMessage(v: unknown): ClientMessage | null {
  return decodeWith(CLIENT_DECODERS, v);
}

/** Decodes a supervisor message; null for an unknown type (ignored). */
export function decodeServerMessage(v: unknown): ServerMessage | null {
  return decodeWith(SERVER_DECODERS, v);
}

/** A request as it travels: its arguments are fields of the request map, next to t, id and op. */
export function requestFrame<K extends OpName>(id: number, op: K, args: ArgsOf<K>): Obj {
  return { t: 'request', id, op, ...args };
}

/** A client message as it travels (requests are flattened, see requestFrame). */
export function wireForm(m: ClientMessage): unknown {
  return m.t === 'request' ? { t: 'request', id: m.id, op: m.call.op, ...m.call.args } : m;
}
