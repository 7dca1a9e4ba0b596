import { Packr } from 'msgpackr';

// Framing: every message is a 4-byte big-endian payload length followed by that many
// bytes holding exactly one msgpack value. Both directions, both sides.

export const HEADER_BYTES = 4;
/** Largest payload either side accepts or sends (16 MiB). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  encodeUndefinedAsNil: true,
  int64AsType: 'number',
  copyBuffers: true,
});

/** What FrameReader.read returns when no whole frame is buffered yet. */
export const NO_FRAME: unique symbol = Symbol('no frame');

export class FrameError extends Error {
  constructor(
    readonly code: 'frame-too-large' | 'frame-empty' | 'malformed',
    message: string,
  ) {
    super(message);
  }
}

export function encodeFrame(value: unknown): Buffer {
  const payload = packr.pack(value);
  if (payload.length > MAX_FRAME_BYTES) {
    throw new FrameError('frame-too-large', `message of ${payload.length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
  }
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/**
 * Incremental decoder for one connection: feed it socket chunks, it returns whole
 * decoded payloads. It throws FrameError on an empty, oversized or undecodable frame;
 * the connection is then unusable (the caller closes it).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Largest payload accepted; a caller may lower it (e.g. before the peer's hello). */
  constructor(public maxFrame = MAX_FRAME_BYTES) {}

  /** Appends a chunk and returns every frame now complete. */
  push(chunk: Buffer): unknown[] {
    this.append(chunk);
    const out: unknown[] = [];
    for (let v = this.read(); v !== NO_FRAME; v = this.read()) out.push(v);
    return out;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete frame's value, or NO_FRAME when more bytes are needed. One frame
   * at a time, so a caller can change maxFrame between frames. The length is checked as
   * soon as the header is in: an oversized frame is refused before its body is read.
   */
  read(): unknown {
    if (this.buffered < HEADER_BYTES) return NO_FRAME;
    const len = this.peek(HEADER_BYTES).readUInt32BE(0);
    if (len === 0) throw new FrameError('frame-empty', 'frame of length 0');
    if (len > this.maxFrame) {
      throw new FrameError('frame-too-large', `frame of ${len} bytes exceeds the ${this.maxFrame}-byte limit`);
    }
    if (this.buffered < HEADER_BYTES + len) return NO_FRAME;
    const frame = this.take(HEADER_BYTES + len).subarray(HEADER_BYTES);
    try {
      return packr.unpack(frame);
    } catch (err) {
      // msgpackr throws Error, RangeError (deep nesting), TypeError…: all mean "not one value".
      throw new FrameError('malformed', `payload is not one msgpack value (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /** Drops whatever is buffered (a closed connection must not keep a partial 16 MiB frame alive). */
  clear(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}
