import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

// A client of the wire protocol written from protocol.md alone, as someone in another
// language would: a tiny msgpack encoder and a strict decoder (only the subset the
// document says the supervisor writes), frames built by hand. It shares no code with
// src/protocol on purpose, so the tests check the document, not the implementation
// against itself.

export type Mp = null | boolean | number | string | Uint8Array | Mp[] | { [k: string]: Mp | undefined };

// ---- encoding -----------------------------------------------------------------------

function u8(n: number): Buffer {
  return Buffer.from([n]);
}
function be(n: number, bytes: 2 | 4): Buffer {
  const b = Buffer.alloc(bytes);
  if (bytes === 2) b.writeUInt16BE(n);
  else b.writeUInt32BE(n);
  return b;
}

function encodeInt(n: number): Buffer {
  if (n >= 0) {
    if (n < 0x80) return u8(n); // positive fixint
    if (n < 0x100) return Buffer.from([0xcc, n]);
    if (n < 0x10000) return Buffer.concat([u8(0xcd), be(n, 2)]);
    if (n < 0x100000000) return Buffer.concat([u8(0xce), be(n, 4)]);
    const b = Buffer.alloc(9);
    b[0] = 0xcf;
    b.writeBigUInt64BE(BigInt(n), 1);
    return b;
  }
  if (n >= -32) return u8(n & 0xff); // negative fixint
  if (n >= -0x80) return Buffer.from([0xd0, n & 0xff]);
  if (n >= -0x8000) {
    const b = Buffer.alloc(3);
    b[0] = 0xd1;
    b.writeInt16BE(n, 1);
    return b;
  }
  if (n >= -0x80000000) {
    const b = Buffer.alloc(5);
    b[0] = 0xd2;
    b.writeInt32BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0xd3;
  b.writeBigInt64BE(BigInt(n), 1);
  return b;
}

function encodeStr(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  const n = body.length;
  if (n < 32) return Buffer.concat([u8(0xa0 | n), body]);
  if (n < 0x100) return Buffer.concat([Buffer.from([0xd9, n]), body]);
  if (n < 0x10000) return Buffer.concat([u8(0xda), be(n, 2), body]);
  return Buffer.concat([u8(0xdb), be(n, 4), body]);
}

function encodeBin(b: Uint8Array): Buffer {
  const n = b.length;
  if (n < 0x100) return Buffer.concat([Buffer.from([0xc4, n]), b]);
  if (n < 0x10000) return Buffer.concat([u8(0xc5), be(n, 2), b]);
  return Buffer.concat([u8(0xc6), be(n, 4), b]);
}

/** msgpack of a value: maps with string keys, str for strings, bin for bytes. */
export function mp(v: Mp | undefined): Buffer {
  if (v === null || v === undefined) return u8(0xc0);
  if (v === false) return u8(0xc2);
  if (v === true) return u8(0xc3);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return encodeInt(v);
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(v, 1);
    return b;
  }
  if (typeof v === 'string') return encodeStr(v);
  if (v instanceof Uint8Array) return encodeBin(v);
  if (Array.isArray(v)) {
    const n = v.length;
    const head = n < 16 ? u8(0x90 | n) : n < 0x10000 ? Buffer.concat([u8(0xdc), be(n, 2)]) : Buffer.concat([u8(0xdd), be(n, 4)]);
    return Buffer.concat([head, ...v.map((x) => mp(x))]);
  }
  const entries = Object.entries(v).filter(([, x]) => x !== undefined);
  const n = entries.length;
  const head = n < 16 ? u8(0x80 | n) : n < 0x10000 ? Buffer.concat([u8(0xde), be(n, 2)]) : Buffer.concat([u8(0xdf), be(n, 4)]);
  return Buffer.concat([head, ...entries.flatMap(([k, x]) => [encodeStr(k), mp(x)])]);
}

/** A frame: 4-byte big-endian payload length, then the payload. */
export function frameOf(payload: Uint8Array): Buffer {
  return Buffer.concat([be(payload.length, 4), payload]);
}

export function frame(v: Mp): Buffer {
  return frameOf(mp(v));
}

// ---- decoding -----------------------------------------------------------------------

export class DecodeError extends Error {}

/** Decodes one msgpack value; throws DecodeError on anything protocol.md rules out. */
export function unmp(buf: Buffer): Mp {
  let p = 0;
  const need = (n: number) => {
    if (p + n > buf.length) throw new DecodeError(`truncated at byte ${p}`);
  };
  const str = (n: number): string => {
    need(n);
    const s = buf.toString('utf8', p, p + n);
    p += n;
    return s;
  };
  const bin = (n: number): Buffer => {
    need(n);
    const b = Buffer.from(buf.subarray(p, p + n));
    p += n;
    return b;
  };
  const uint = (bytes: 1 | 2 | 4 | 8): number => {
    need(bytes);
    const v =
      bytes === 1 ? buf.readUInt8(p) : bytes === 2 ? buf.readUInt16BE(p) : bytes === 4 ? buf.readUInt32BE(p) : Number(buf.readBigUInt64BE(p));
    p += bytes;
    return v;
  };
  const sint = (bytes: 1 | 2 | 4 | 8): number => {
    need(bytes);
    const v = bytes === 1 ? buf.readInt8(p) : bytes === 2 ? buf.readInt16BE(p) : bytes === 4 ? buf.readInt32BE(p) : Number(buf.readBigInt64BE(p));
    p += bytes;
    return v;
  };
  const map = (n: number): Mp => {
    const o: { [k: string]: Mp } = {};
    for (let i = 0; i < n; i++) {
      const k = value();
      if (typeof k !== 'string') throw new DecodeError(`map key at byte ${p} is not a string`);
      o[k] = value();
    }
    return o;
  };
  const arr = (n: number): Mp[] => {
    const a: Mp[] = [];
    for (let i = 0; i < n; i++) a.push(value());
    return a;
  };
  const value = (): Mp => {
    need(1);
    const b = buf[p++]!;
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    if ((b & 0xf0) === 0x90) return arr(b & 0x0f);
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bin(uint(1));
      case 0xc5:
        return bin(uint(2));
      case 0xc6:
        return bin(uint(4));
      case 0xca: {
        need(4);
        const v = buf.readFloatBE(p);
        p += 4;
        return v;
      }
      case 0xcb: {
        need(8);
        const v = buf.readDoubleBE(p);
        p += 8;
        return v;
      }
      case 0xcc:
        return uint(1);
      case 0xcd:
        return uint(2);
      case 0xce:
        return uint(4);
      case 0xcf:
        return uint(8);
      case 0xd0:
        return sint(1);
      case 0xd1:
        return sint(2);
      case 0xd2:
        return sint(4);
      case 0xd3:
        return sint(8);
      case 0xd9:
        return str(uint(1));
      case 0xda:
        return str(uint(2));
      case 0xdb:
        return str(uint(4));
      case 0xdc:
        return arr(uint(2));
      case 0xdd:
        return arr(uint(4));
      case 0xde:
        return map(uint(2));
      case 0xdf:
        return map(uint(4));
      default:
        throw new DecodeError(`type byte 0x${b.toString(16)} at ${p - 1} is not used by the protocol`);
    }
  };
  const v = value();
  if (p !== buf.length) throw new DecodeError(`${buf.length - p} trailing bytes after the value`);
  return v;
}

// ---- the connection -----------------------------------------------------------------

export type Msg = { [k: string]: Mp };

/** The socket of agent ID in a sandbox's runtime directory (`<hash8>-ID.sock`). */
export function socketOf(runtimeDir: string, id: string): string {
  const name = fs.readdirSync(runtimeDir).find((f) => f.endsWith(`-${id}.sock`));
  if (!name) throw new Error(`no socket for ${id} in ${runtimeDir}`);
  return path.join(runtimeDir, name);
}

export class RawClient {
  readonly messages: Msg[] = [];
  /** Raw bytes received, for tests that look at the framing itself. */
  received = 0;
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private readonly closedP: Promise<void>;
  /** Set when the supervisor sent something protocol.md does not allow. */
  violation: string | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => this.data(chunk));
    socket.on('error', () => {});
    this.closedP = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(socketPath: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(socketPath);
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Connects and says hello; resolves after the welcome. */
  static async hello(socketPath: string, fields: Record<string, Mp> = {}): Promise<RawClient> {
    const c = await RawClient.connect(socketPath);
    c.send({ t: 'hello', protocol: 1, client: 'raw-test/1', mode: 'attach', readOnly: false, cols: null, rows: null, features: [], ...fields });
    const w = await c.next((m) => m.t === 'welcome' || m.t === 'error');
    if (w.t !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(w)}`);
    return c;
  }

  private data(chunk: Buffer): void {
    this.received += chunk.length;
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len === 0 || len > 16 * 1024 * 1024) this.violation ??= `frame length ${len}`;
      if (this.buf.length < 4 + len) break;
      const payload = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      try {
        const v = unmp(Buffer.from(payload));
        if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array || typeof (v as Msg).t !== 'string') {
          throw new DecodeError('a message must be a map with a string "t"');
        }
        this.messages.push(v as Msg);
      } catch (err) {
        this.violation ??= (err as Error).message;
      }
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(b: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  send(v: Mp): void {
    this.write(frame(v));
  }

  private cursor = 0;

  /** The next message (after those already returned) matching `pred`; earlier ones are skipped. */
  async next(pred: (m: Msg) => boolean = () => true, timeoutMs = 10_000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.messages.length) {
        const m = this.messages[this.cursor++]!;
        if (pred(m)) return m;
      }
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(this.messages.map((m) => m.t))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.messages.map((m) => m.t))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a control request and waits for the response with its id. */
  private nextId = 1;
  async request(op: string, args: Record<string, Mp> = {}, timeoutMs = 10_000): Promise<Msg> {
    const id = this.nextId++;
    this.send({ t: 'request', id, op, ...args });
    return this.next((m) => m.t === 'response' && m.id === id, timeoutMs);
  }

  /** Resolves true once the supervisor closed the connection, false after the timeout. */
  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    if (this.closed) return true;
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.closedP.then(() => true), new Promise<boolean>((res) => (t = setTimeout(() => res(false), timeoutMs)))]);
    clearTimeout(t);
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
