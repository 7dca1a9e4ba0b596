import * as net from 'node:net';
import { FrameReader, encodeFrame } from '../protocol/framing';
import {
  type ClientMessage,
  FEATURES,
  PROTOCOL_VERSION,
  ProtocolError,
  type ServerMessage,
  type TerminalHandover,
  type Welcome,
  decodeServerMessage,
  requestFrame,
  wireForm,
} from '../protocol/messages';
import { type ArgsOf, OPS, type OpName, type ReplyOf } from '../protocol/ops';
import { VERSION } from '../version';

// One connection to a supervisor, from any front end (the CLI, the library, the MCP and
// web servers): connect, say hello, then either stream (attach) or ask (control requests
// with ids, each reply decoded by its op's decoder). Plain Node: no native module.

export interface ConnectOptions {
  mode: 'attach' | 'control';
  readOnly?: boolean;
  cols?: number | null;
  rows?: number | null;
  /** Attach only: offer the supervisor our terminal (it may refuse; see welcome.session). */
  terminal?: TerminalHandover | null;
  /** Attach only: the agent redraws after the snapshot even at the same size. */
  redraw?: boolean;
  /** Called once the hello is written: what may run while the supervisor answers it. */
  afterHello?: () => void;
  timeoutMs?: number;
}

type Pending = { resolve: (r: unknown) => void; reject: (e: Error) => void };

export class SupervisorLink {
  welcome!: Welcome;
  private readonly reader = new FrameReader();
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedErr: Error | null = null;
  private handler: ((m: ServerMessage) => void) | null = null;
  /** Stream messages that arrived with the welcome, before anyone listened (the snapshot often does). */
  private early: ServerMessage[] = [];
  onClose: (err: Error | null) => void = () => {};

  /** Stream messages (snapshot, output, size, exit, error) for attach mode; held ones are delivered on assignment. */
  get onMessage(): (m: ServerMessage) => void {
    return this.handler ?? noop;
  }
  set onMessage(fn: (m: ServerMessage) => void) {
    this.handler = fn;
    const held = this.early;
    this.early = [];
    for (const m of held) fn(m);
  }

  private constructor(readonly socket: net.Socket) {}

  static connect(socketPath: string, opts: ConnectOptions): Promise<SupervisorLink> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      const client = new SupervisorLink(socket);
      let welcomed = false;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ProtocolError('timeout', `the supervisor at ${socketPath} did not answer`));
      }, opts.timeoutMs ?? 5000);
      socket.on('connect', () => {
        client.send({
          t: 'hello',
          protocol: PROTOCOL_VERSION,
          client: `symposium-mcp/${VERSION}`,
          mode: opts.mode,
          readOnly: opts.readOnly ?? false,
          cols: opts.cols ?? null,
          rows: opts.rows ?? null,
          features: [...FEATURES],
          terminal: opts.terminal ?? null,
          redraw: opts.redraw ?? false,
        });
        opts.afterHello?.();
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        if (!welcomed) reject(err);
        client.shutdown(err);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (!welcomed) reject(new ProtocolError('closed', `the supervisor at ${socketPath} closed the connection`));
        client.shutdown(null);
      });
      socket.on('data', (chunk) => {
        let values: unknown[];
        try {
          values = client.reader.push(chunk);
        } catch (err) {
          socket.destroy();
          client.shutdown(err as Error);
          return;
        }
        for (const v of values) {
          let m: ServerMessage | null;
          try {
            m = decodeServerMessage(v);
          } catch (err) {
            socket.destroy();
            client.shutdown(err as Error);
            return;
          }
          if (!m) continue;
          if (!welcomed) {
            if (m.t === 'welcome') {
              welcomed = true;
              clearTimeout(timer);
              client.welcome = m;
              resolve(client);
              continue;
            }
            if (m.t === 'error') {
              clearTimeout(timer);
              reject(new ProtocolError(m.code, m.message));
              socket.destroy();
              return;
            }
            continue;
          }
          client.dispatch(m);
        }
      });
    });
  }

  private dispatch(m: ServerMessage): void {
    if (m.t === 'response') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new ProtocolError(m.error?.code ?? 'internal', m.error?.message ?? 'request failed'));
      return;
    }
    if (m.t === 'error' && this.pending.size > 0 && !this.handler) {
      this.failPending(new ProtocolError(m.code, m.message));
      return;
    }
    if (this.handler) this.handler(m);
    else if (this.early.length < 10_000) this.early.push(m);
  }

  send(m: ClientMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(wireForm(m)));
  }

  /**
   * One control request; resolves with its reply, decoded and checked by the op's own
   * decoder (a reply that does not decode rejects, as a malformed one should).
   */
  request<K extends OpName>(op: K, args: ArgsOf<K>, timeoutMs: number | null = 30_000): Promise<ReplyOf<K>> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    const id = this.nextId++;
    const raw = new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const done = (fn: () => void) => {
        if (timer) clearTimeout(timer);
        fn();
      };
      this.pending.set(id, { resolve: (r) => done(() => resolve(r)), reject: (e) => done(() => reject(e)) });
      if (timeoutMs !== null) {
        timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new ProtocolError('timeout', `no answer to ${op} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      if (!this.socket.destroyed) this.socket.write(encodeFrame(requestFrame(id, op, args)));
    });
    return raw.then((v) => OPS[op].decodeReply(v));
  }

  private failPending(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private shutdown(err: Error | null): void {
    if (this.closedErr) return;
    this.closedErr = err ?? new ProtocolError('closed', 'the supervisor closed the connection');
    this.failPending(this.closedErr);
    this.onClose(err);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}

function noop(): void {}
