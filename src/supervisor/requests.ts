import { type ArgsOf, type CaptureReply, type EventsReply, type OpCall, type OpName, OPS, type ReplyOf, type SignalArgs, type SignalReply, type StatusReply, type WaitReply } from '../protocol/ops';
import { type ErrorCode, ProtocolError } from '../protocol/messages';
import { type KeyMode, encodeKey } from '../keys/encode';
import { parseKey } from '../keys/names';
import { TextPattern } from '../text-pattern';
import { Flood } from './flood';
import type { TaskDelivery } from './driving/delivery';
import type { TaskQueue } from './driving/queue';
import type { WaitCondition } from './driving/waits';
import type { Connection } from './viewers/connection';

// Control requests (protocol.md §9): one handler per op of protocol/ops.ts, in a table the
// compiler checks against that one (an op without a handler does not compile). Each
// request gets exactly one response with its id; a handler answers by returning its
// reply or by throwing a ProtocolError. Read-only connections are refused every op the
// op table marks as changing something.

/** What the handlers need of the supervisor. */
export interface RequestHost {
  readonly ended: boolean;
  /** Input written or accepted for the agent that it has not read yet. */
  readonly inputBacklog: number;
  readonly exitInfo: { code: number | null; signal: string | null } | null;
  readonly idleMs: number;
  readonly queue: TaskQueue;
  readonly delivery: TaskDelivery;
  status(): StatusReply;
  /** Brings the status file `list` reads up to date (before every reply). */
  publishStatus(): void;
  /** The screen once everything received so far is parsed; not computed once `from` has closed. */
  capture(args: ArgsOf<'capture'>, from: Connection): Promise<CaptureReply>;
  /** Types for `send` and the queue (see typing.ts). */
  type(parts: Array<{ data: Buffer; paste: boolean }>): Promise<void>;
  /** How the agent asked for keys to be encoded, once the output received so far is parsed. */
  keyMode(): Promise<KeyMode>;
  /** Ends the agent and its process tree; the processes of its run left running (daemonised). */
  terminate(graceMs: number): Promise<Array<{ pid: number; command: string }>>;
  /** Answered once the condition holds, the agent ends or the timeout passes; dropped with `from`. */
  wait(cond: WaitCondition, timeoutMs: number | null, from: Connection): Promise<WaitReply>;
  /** The session's events after `since`, waiting up to `waitMs` for one. */
  events(args: ArgsOf<'events'>, from: Connection): Promise<EventsReply>;
  /** What an agent's hook says it is doing. */
  signal(args: SignalArgs): SignalReply;
}

type Handler<K extends OpName> = (host: RequestHost, args: ArgsOf<K>, from: Connection) => ReplyOf<K> | Promise<ReplyOf<K>>;

function running(host: RequestHost): void {
  if (host.ended) throw new ProtocolError('exited', 'the agent has exited');
}

const HANDLERS: { readonly [K in OpName]: Handler<K> } = {
  status: (host) => host.status(),
  capture: (host, args, from) => host.capture(args, from),
  async send(host, args) {
    running(host);
    if (host.inputBacklog > Flood.AgentInputBytes) {
      throw new ProtocolError('busy', `the agent is not reading its input (${host.inputBacklog} bytes wait for it); try again later`);
    }
    const keys = args.keyNames?.length ? await encodeNames(host, args.keyNames) : args.keys.map((k) => Buffer.from(k));
    const parts = [{ data: Buffer.from(args.data), paste: args.paste }, ...keys.map((k) => ({ data: k, paste: false }))];
    const bytes = args.data.length + keys.reduce((n, k) => n + k.length, 0);
    if (args.task && args.data.length > 0 && keys.length > 0) {
      return { bytes, task: await host.delivery.typeSent(Buffer.from(args.data).toString('utf8'), parts) };
    }
    await host.type(parts);
    return { bytes, task: null };
  },
  async kill(host, args) {
    const leftRunning = await host.terminate(args.graceMs);
    return { exitCode: host.exitInfo?.code ?? null, exitSignal: host.exitInfo?.signal ?? null, leftRunning };
  },
  'queue-add'(host, args) {
    running(host);
    const task = host.queue.add(args.text);
    host.delivery.schedule();
    return { task };
  },
  'queue-list': (host) => ({ tasks: host.queue.list() }),
  'queue-clear': (host) => ({ cleared: host.queue.clear() }),
  wait(host, args, from) {
    if (args.until === 'text') {
      let re: TextPattern;
      try {
        re = TextPattern.compile(args.pattern, args.flags);
      } catch (err) {
        throw new ProtocolError('bad-request', `invalid pattern: ${(err as Error).message}`);
      }
      return host.wait({ until: 'text', re }, args.timeoutMs, from);
    }
    if (args.until === 'state') return host.wait({ until: 'state', states: args.states }, args.timeoutMs, from);
    if (args.until === 'task') return host.wait({ until: 'task', task: args.task }, args.timeoutMs, from);
    // idleMs 0 in the request means "the session's own threshold".
    if (args.until === 'idle') return host.wait({ until: 'idle', idleMs: args.idleMs || host.idleMs }, args.timeoutMs, from);
    return host.wait({ until: 'exit' }, args.timeoutMs, from);
  },
  events: (host, args, from) => host.events(args, from),
  signal: (host, args) => host.signal(args),
};

/** Named keys as the agent asked for them (kitty, modifyOtherKeys or legacy); press and release together. */
async function encodeNames(host: RequestHost, names: string[]): Promise<Buffer[]> {
  let keys;
  try {
    keys = names.map(parseKey);
  } catch (err) {
    throw new ProtocolError('bad-request', (err as Error).message);
  }
  const mode = await host.keyMode();
  return keys.map((k) => {
    const e = encodeKey(k, mode);
    return Buffer.from(e.press + (e.release ?? ''), 'utf8');
  });
}

function run<K extends OpName>(host: RequestHost, call: { op: K; args: ArgsOf<K> }, from: Connection): ReplyOf<K> | Promise<ReplyOf<K>> {
  return (HANDLERS[call.op] as Handler<K>)(host, call.args, from);
}

/**
 * Answers one request. `done` is called once the response is sent, or dropped because the
 * connection closed: the connection's next frames wait for it (connection.ts).
 */
export function handleRequest(host: RequestHost, c: Connection, id: number, call: OpCall, done: () => void = () => {}): void {
  const fail = (err: unknown) => {
    const known = err instanceof ProtocolError && err.code !== 'closed';
    const code = known ? (err.code as ErrorCode) : 'internal';
    const message = known ? err.message : `supervisor error: ${(err as Error).message}`;
    c.send({ t: 'response', id, ok: false, result: null, error: { code, message } });
    done();
  };
  if (c.readOnly && OPS[call.op].mutates) return fail(new ProtocolError('read-only', `a read-only connection cannot ${call.op}`));
  let reply: unknown;
  try {
    reply = run(host, call, c);
  } catch (err) {
    return fail(err);
  }
  void Promise.resolve(reply).then((result) => {
    // What this reply tells (a state waited for, a task queued), a `list` right after reads too.
    host.publishStatus();
    c.send({ t: 'response', id, ok: true, result, error: null });
    done();
  }, fail);
}
