import {
  MAX_TIMER_MS,
  MessageError,
  type Obj,
  arrayOf,
  bad,
  bin,
  binArray,
  bool,
  dim,
  isObj,
  lenient,
  obj,
  oneOf,
  optInt,
  optStr,
  optTime,
  optUint,
  str,
  strArray,
  uint,
} from './fields';
import { STATE_NAMES, type SessionEvent, type StateName, TASK_STATES, type TaskState, decodeEvents } from './events';

// Every control request, described once (as tmux describes a command in its cmd_entry):
// its arguments, its reply, whether it changes anything (read-only connections may only
// use the ops that do not), and the decoders of both. The supervisor's handler table
// (supervisor/requests.ts) and protocol.md's §9 must have an entry for every op here: the
// compiler checks the first, test/unit/protocol-doc.test.ts the second.

// ---- arguments ------------------------------------------------------------------------

export interface CaptureArgs {
  /** Only the last N lines. */
  lines: number | null;
  /** With the scrollback history. */
  scrollback: boolean;
  /** With colours and attributes as SGR sequences. */
  ansi: boolean;
  /** From this absolute line on (a previous reply's nextLine), history included: only what is new. */
  since: number | null;
}

export interface SendArgs {
  /** Text to type (may be empty). */
  data: Uint8Array;
  /** As one bracketed paste when the agent enabled it. */
  paste: boolean;
  /** Keys typed after the text, each as its own write. */
  keys: Uint8Array[];
  /**
   * Keys by name (`S-Enter`, `C-c`), encoded by the supervisor for the keyboard protocol the
   * agent asked for; when present they are typed instead of `keys` (which an older
   * supervisor types: a client sends both).
   */
  keyNames?: string[] | null;
  /**
   * The text is a task the keys submit (`send TEXT --enter`): it gets a task number and
   * receipts as a queued one does (typed at once, whatever the agent is doing).
   */
  task?: boolean;
}

export interface KillArgs {
  graceMs: number;
}

export interface QueueAddArgs {
  text: string;
}

export type WaitArgs =
  | { until: 'idle'; idleMs: number; timeoutMs: number | null }
  | { until: 'exit'; timeoutMs: number | null }
  | { until: 'text'; pattern: string; flags: string; timeoutMs: number | null }
  | { until: 'state'; states: StateName[]; timeoutMs: number | null }
  | { until: 'task'; task: number; timeoutMs: number | null };

export interface EventsArgs {
  /** The first event number wanted (a previous reply's `next`; 0 or 1: from the oldest held). */
  since: number;
  /** When there is none yet, wait up to this long for the next (0: answer at once). */
  waitMs: number;
  /** Events in the reply at most. */
  limit: number;
}

/** What an agent's hook (or any program in the session) says it is doing. */
export interface SignalArgs {
  /** `attention`: it waits for the user, without saying whether it asks something. */
  word: 'working' | 'idle' | 'blocked' | 'attention';
  /** What it said (a notification's message, the command to approve). */
  text: string | null;
  /** Which hook said it (`hook: Stop`). */
  source: string;
}

export type NoArgs = Record<string, never>;

// ---- replies --------------------------------------------------------------------------

export interface StatusReply {
  id: string;
  supervisorPid: number;
  agentPid: number;
  cols: number;
  rows: number;
  sizePolicy: 'latest' | 'smallest';
  viewers: number;
  readOnlyViewers: number;
  /** ms since the epoch; null before any output. */
  lastOutputAt: number | null;
  idleMs: number;
  /** null once ended. */
  activity: 'idle' | 'working' | null;
  /** The state (docs/agents.md); older supervisors: derived from `activity`. */
  state: StateName;
  /** Why it is in that state ("quiet for 2 s", "hook: Stop"). */
  stateReason: string;
  /** ms since the epoch when it entered it (null: not said). */
  stateSince: number | null;
  title: string;
  seq: number;
  ended: boolean;
  exitCode: number | null;
  exitSignal: string | null;
  queued: number;
  connections: number;
  bufferedBytes: number;
}

export interface Cursor {
  x: number;
  y: number;
}

export interface CaptureReply {
  text: string;
  cols: number;
  rows: number;
  cursor: Cursor;
  /** The agent has ended: this is its last screen. */
  final: boolean;
  /** Absolute number of the first line of `text` in the normal screen's history (null: unknown, or the alternate screen). */
  firstLine: number | null;
  /** Absolute number of the cursor's line: pass it as `since` to get only what came after. Null: not supported. */
  nextLine: number | null;
  /** Lines asked for with `since` that had already left the history (the scrollback is bounded). */
  skipped: number;
  /** A full-screen program shows its alternate screen: `text` is that screen, and `since` does not apply. */
  alternate: boolean;
}

export interface SendReply {
  /** Length of the text plus all keys. */
  bytes: number;
  /** With `task`: the task it became (null otherwise, and from older supervisors). */
  task: TaskInfo | null;
}

export interface KillReply {
  exitCode: number | null;
  exitSignal: string | null;
  /** Processes of the agent's run that had left its process tree (daemonised): not ended. Empty from older supervisors. */
  leftRunning: Array<{ pid: number; command: string }>;
}

export interface TaskInfo {
  /** 1, 2, … per session. */
  index: number;
  text: string;
  /** Its receipts so far (protocol.md §9.5): queued, typed, submitted, started, done. */
  state: TaskState;
  /** ms since the epoch. */
  queuedAt: number;
  /** Its text typed in. */
  typedAt: number | null;
  /** Its Enter pressed. */
  submittedAt: number | null;
  /** The agent reacted (output, its hook, a job in its foreground). */
  startedAt: number | null;
  /** The agent was idle or blocked again, or ended. */
  doneAt: number | null;
  /** What the agent was when the turn ended. */
  doneState: 'idle' | 'blocked' | 'exited' | null;
  /** The absolute line (as capture's nextLine) where the turn began and where it ended: `capture` with `since`. */
  firstLine: number | null;
  endLine: number | null;
  /** The same as submittedAt (the name of earlier versions). */
  deliveredAt: number | null;
  /** Typed by `send` (at once), not queued. */
  sent: boolean;
}

export interface QueueAddReply {
  task: TaskInfo;
}

export interface QueueListReply {
  tasks: TaskInfo[];
}

export interface QueueClearReply {
  cleared: number;
}

export interface WaitReply {
  /** False when the timeout passed first. */
  satisfied: boolean;
  ended: boolean;
  exitCode: number | null;
  exitSignal: string | null;
  /** The matching text of a `text` wait that matched. */
  match: string | null;
  /** The state when answered (null from older supervisors). */
  state: StateName | null;
  /** A `task` wait: the task as it is when answered. */
  task: TaskInfo | null;
}

export interface EventsReply {
  events: SessionEvent[];
  /** Pass as `since` next time. */
  next: number;
  /** Events asked for that are no longer held (the reader fell behind the journal's bound). */
  lost: number;
}

export interface SignalReply {
  state: StateName;
  reason: string;
}

// ---- the table ------------------------------------------------------------------------

/** Every request op: its arguments and its reply. */
export interface Ops {
  status: { args: NoArgs; reply: StatusReply };
  capture: { args: CaptureArgs; reply: CaptureReply };
  send: { args: SendArgs; reply: SendReply };
  kill: { args: KillArgs; reply: KillReply };
  'queue-add': { args: QueueAddArgs; reply: QueueAddReply };
  'queue-list': { args: NoArgs; reply: QueueListReply };
  'queue-clear': { args: NoArgs; reply: QueueClearReply };
  wait: { args: WaitArgs; reply: WaitReply };
  events: { args: EventsArgs; reply: EventsReply };
  signal: { args: SignalArgs; reply: SignalReply };
}

export type OpName = keyof Ops;
export type ArgsOf<K extends OpName> = Ops[K]['args'];
export type ReplyOf<K extends OpName> = Ops[K]['reply'];

/** One op and its arguments, as the supervisor receives them. */
export type OpCall = { [K in OpName]: { op: K; args: ArgsOf<K> } }[OpName];

export interface OpSpec<K extends OpName> {
  /** Changes the agent or the session: refused on read-only connections. */
  readonly mutates: boolean;
  /** The arguments, from the fields of the request map. */
  decodeArgs(o: Obj, id: number): ArgsOf<K>;
  /** The reply, from the `result` map of a successful response. */
  decodeReply(v: unknown): ReplyOf<K>;
}

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

const R = 'request';

/** An `events` request waits at most this long for the next event (a long poll; clients ask again). */
export const MAX_EVENTS_WAIT_MS = 60_000;
/** Events in one reply at most. */
export const MAX_EVENTS_PER_REPLY = 500;

function result(v: unknown, op: string): Obj {
  if (!isObj(v)) throw new MessageError(`the ${op} result must be a map`);
  return v;
}

export function decodeTask(v: unknown, where: string): TaskInfo {
  if (!isObj(v)) throw new MessageError(`${where} must be a task map`);
  const deliveredAt = optTime(v, where, 'deliveredAt');
  // Earlier supervisors said `delivered` for a task typed and submitted.
  const state = v.state === 'delivered' ? 'submitted' : lenient(v, 'state', TASK_STATES, 'queued');
  const submittedAt = optTime(v, where, 'submittedAt') ?? deliveredAt;
  const doneState = v.doneState === 'idle' || v.doneState === 'blocked' || v.doneState === 'exited' ? v.doneState : null;
  return {
    index: uint(v, where, 'index'),
    text: str(v, where, 'text', 64 << 20),
    state,
    queuedAt: optTime(v, where, 'queuedAt') ?? 0,
    typedAt: optTime(v, where, 'typedAt') ?? submittedAt,
    submittedAt,
    startedAt: optTime(v, where, 'startedAt'),
    doneAt: optTime(v, where, 'doneAt'),
    doneState,
    firstLine: optUint(v, where, 'firstLine', Number.MAX_SAFE_INTEGER),
    endLine: optUint(v, where, 'endLine', Number.MAX_SAFE_INTEGER),
    deliveredAt: submittedAt,
    sent: bool(v, where, 'sent', false),
  };
}

/** A state as the status of an older supervisor gives it: from its activity. */
function stateOf(s: Obj): StateName {
  if (typeof s.state === 'string') return lenient(s, 'state', STATE_NAMES, 'unknown');
  if (s.ended === true) return 'exited';
  return s.activity === 'idle' ? 'idle' : s.activity === 'working' ? 'working' : 'unknown';
}

const SIGNAL_WORDS = ['working', 'idle', 'blocked', 'attention'] as const;

function decodeCursor(v: Obj, where: string): Cursor {
  const c = obj(v, where, 'cursor');
  return { x: uint(c, `${where}.cursor`, 'x'), y: uint(c, `${where}.cursor`, 'y') };
}

function decodeProcess(v: unknown, where: string): { pid: number; command: string } {
  if (!isObj(v)) throw new MessageError(`${where} must be a map`);
  return { pid: uint(v, where, 'pid'), command: str(v, where, 'command', 1 << 16) };
}

function noArgs(): NoArgs {
  return {};
}

export const OPS: { readonly [K in OpName]: OpSpec<K> } = {
  status: {
    mutates: false,
    decodeArgs: noArgs,
    decodeReply(v) {
      const s = result(v, 'status');
      const t = 'status';
      return {
        id: str(s, t, 'id'),
        supervisorPid: uint(s, t, 'supervisorPid'),
        agentPid: uint(s, t, 'agentPid'),
        cols: dim(s, t, 'cols'),
        rows: dim(s, t, 'rows'),
        sizePolicy: oneOf(s, t, 'sizePolicy', ['latest', 'smallest'], 'latest'),
        viewers: uint(s, t, 'viewers'),
        readOnlyViewers: optUint(s, t, 'readOnlyViewers') ?? 0,
        lastOutputAt: optTime(s, t, 'lastOutputAt'),
        idleMs: uint(s, t, 'idleMs'),
        activity: s.activity === 'idle' || s.activity === 'working' ? s.activity : null,
        state: stateOf(s),
        stateReason: optStr(s, t, 'stateReason', 4096) ?? '',
        stateSince: optTime(s, t, 'stateSince'),
        title: optStr(s, t, 'title') ?? '',
        seq: uint(s, t, 'seq', Number.MAX_SAFE_INTEGER),
        ended: bool(s, t, 'ended', false),
        exitCode: optInt(s, t, 'exitCode'),
        exitSignal: optStr(s, t, 'exitSignal'),
        queued: optUint(s, t, 'queued') ?? 0,
        connections: optUint(s, t, 'connections') ?? 0,
        bufferedBytes: optUint(s, t, 'bufferedBytes', Number.MAX_SAFE_INTEGER) ?? 0,
      };
    },
  },
  capture: {
    mutates: false,
    decodeArgs: (o) => ({
      lines: optUint(o, R, 'lines', 1_000_000),
      scrollback: bool(o, R, 'scrollback', false),
      ansi: bool(o, R, 'ansi', false),
      since: optUint(o, R, 'since', Number.MAX_SAFE_INTEGER),
    }),
    decodeReply(v) {
      const r = result(v, 'capture');
      return {
        text: str(r, 'capture', 'text', 1 << 30),
        cols: dim(r, 'capture', 'cols'),
        rows: dim(r, 'capture', 'rows'),
        cursor: decodeCursor(r, 'capture'),
        final: bool(r, 'capture', 'final', false),
        // Absent from older supervisors' replies.
        firstLine: optUint(r, 'capture', 'firstLine', Number.MAX_SAFE_INTEGER),
        nextLine: optUint(r, 'capture', 'nextLine', Number.MAX_SAFE_INTEGER),
        skipped: optUint(r, 'capture', 'skipped', Number.MAX_SAFE_INTEGER) ?? 0,
        alternate: bool(r, 'capture', 'alternate', false),
      };
    },
  },
  send: {
    mutates: true,
    decodeArgs(o) {
      const keyNames = o.keyNames === undefined || o.keyNames === null ? null : strArray(o, R, 'keyNames');
      if (keyNames && (keyNames.length > 256 || keyNames.some((k) => k.length > 64))) bad(R, 'keyNames', 'at most 256 key names of at most 64 characters');
      return { data: bin(o, R, 'data'), paste: bool(o, R, 'paste', false), keys: binArray(o, R, 'keys', 256), keyNames, task: bool(o, R, 'task', false) };
    },
    decodeReply(v) {
      const r = result(v, 'send');
      return { bytes: uint(r, 'send', 'bytes', Number.MAX_SAFE_INTEGER), task: r.task === undefined || r.task === null ? null : decodeTask(r.task, 'send.task') };
    },
  },
  kill: {
    mutates: true,
    decodeArgs: (o) => ({ graceMs: optUint(o, R, 'graceMs', 600_000) ?? 3000 }),
    decodeReply(v) {
      const r = result(v, 'kill');
      const left = r.leftRunning === undefined || r.leftRunning === null ? [] : arrayOf(r, 'kill', 'leftRunning', decodeProcess);
      return { exitCode: optInt(r, 'kill', 'exitCode'), exitSignal: optStr(r, 'kill', 'exitSignal'), leftRunning: left };
    },
  },
  'queue-add': {
    mutates: true,
    decodeArgs: (o) => ({ text: str(o, R, 'text', 8 << 20) }),
    decodeReply: (v) => ({ task: decodeTask(result(v, 'queue-add').task, 'queue-add.task') }),
  },
  'queue-list': {
    mutates: false,
    decodeArgs: noArgs,
    decodeReply: (v) => ({ tasks: arrayOf(result(v, 'queue-list'), 'queue-list', 'tasks', decodeTask) }),
  },
  'queue-clear': {
    mutates: true,
    decodeArgs: noArgs,
    decodeReply: (v) => ({ cleared: uint(result(v, 'queue-clear'), 'queue-clear', 'cleared') }),
  },
  wait: {
    mutates: false,
    decodeArgs(o, id) {
      const timeoutMs = optUint(o, R, 'timeoutMs', MAX_TIMER_MS);
      const until = o.until;
      if (until === 'idle') return { until, idleMs: uint(o, R, 'idleMs', MAX_TIMER_MS), timeoutMs };
      if (until === 'exit') return { until, timeoutMs };
      if (until === 'text') return { until, pattern: str(o, R, 'pattern', 4096), flags: optStr(o, R, 'flags') ?? '', timeoutMs };
      if (until === 'state') {
        const states = strArray(o, R, 'states');
        if (states.length === 0 || states.some((x) => !(STATE_NAMES as readonly string[]).includes(x))) bad(R, 'states', `a list of ${STATE_NAMES.join(', ')}`);
        return { until, states: states as StateName[], timeoutMs };
      }
      if (until === 'task') return { until, task: uint(o, R, 'task'), timeoutMs };
      if (typeof until === 'string') throw new UnsupportedRequest(id, `wait until ${JSON.stringify(until.slice(0, 100))} is not supported`);
      return bad(R, 'until', '"idle", "exit", "text", "state" or "task"');
    },
    decodeReply(v) {
      const r = result(v, 'wait');
      return {
        satisfied: bool(r, 'wait', 'satisfied', false),
        ended: bool(r, 'wait', 'ended', false),
        exitCode: optInt(r, 'wait', 'exitCode'),
        exitSignal: optStr(r, 'wait', 'exitSignal'),
        match: optStr(r, 'wait', 'match', 1 << 24),
        state: typeof r.state === 'string' ? lenient(r, 'state', STATE_NAMES, 'unknown') : null,
        task: r.task === undefined || r.task === null ? null : decodeTask(r.task, 'wait.task'),
      };
    },
  },
  events: {
    mutates: false,
    decodeArgs: (o) => ({
      since: optUint(o, R, 'since', Number.MAX_SAFE_INTEGER) ?? 0,
      waitMs: optUint(o, R, 'waitMs', MAX_EVENTS_WAIT_MS) ?? 0,
      limit: optUint(o, R, 'limit', MAX_EVENTS_PER_REPLY) || MAX_EVENTS_PER_REPLY,
    }),
    decodeReply(v) {
      const r = result(v, 'events');
      return {
        events: decodeEvents(r.events),
        next: uint(r, 'events', 'next', Number.MAX_SAFE_INTEGER),
        lost: optUint(r, 'events', 'lost', Number.MAX_SAFE_INTEGER) ?? 0,
      };
    },
  },
  signal: {
    mutates: true,
    decodeArgs: (o) => ({
      word: oneOf(o, R, 'word', SIGNAL_WORDS),
      text: optStr(o, R, 'text', 4096),
      source: optStr(o, R, 'source', 256) ?? 'hook',
    }),
    decodeReply(v) {
      const r = result(v, 'signal');
      return { state: lenient(r, 'state', STATE_NAMES, 'unknown'), reason: optStr(r, 'signal', 'reason', 4096) ?? '' };
    },
  },
};

export const OP_NAMES = Object.keys(OPS) as OpName[];

export function isOpName(op: string): op is OpName {
  return Object.prototype.hasOwnProperty.call(OPS, op);
}

/** The op and arguments of a request map; UnsupportedRequest for an op we do not know. */
export function decodeCall(o: Obj, id: number): OpCall {
  const op = o.op;
  if (typeof op !== 'string') return bad(R, 'op', 'a string');
  if (!isOpName(op)) throw new UnsupportedRequest(id, `request op ${JSON.stringify(op.slice(0, 100))} is not supported`);
  return { op, args: OPS[op].decodeArgs(o, id) } as OpCall;
}
