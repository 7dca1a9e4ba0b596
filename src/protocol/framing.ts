import type { Packr } from 'msgpackr';

// Framing: every message is a 4-byte big-endian payload length followed by that many
// bytes holding exactly one msgpack value. Both directions, both sides.

export const HEADER_BYTES = 4;
/** Largest payload either side accepts or sends (16 MiB). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const OPTIONS = { useRecords: false, mapsAsObjects: true, encodeUndefinedAsNil: true, int64AsType: 'number' } as const;
/**
 * msgpackr is loaded on the first frame, not with this module: an idle supervisor that no
 * client ever talks to never needs it, and its evaluation (its code's functions, its
 * default instances and tables) cost ~0.3 MB of heap in each supervisor (measured).
 */
let packers: { packr: Packr; viewPackr: Packr } | null = null;
function packersOf(): { packr: Packr; viewPackr: Packr } {
  if (packers) return packers;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Packr: P } = require('msgpackr') as typeof import('msgpackr');
  packers = {
    /** Decoded binary is copied out: a frame cut from a socket chunk must not keep the chunk alive. */
    packr: new P({ ...OPTIONS, copyBuffers: true }),
    /** For a large frame's own buffer (FrameReader.body), which nothing else uses: views, no copy. */
    viewPackr: new P({ ...OPTIONS, copyBuffers: false }),
  };
  return packers;
}

/** Frames at least this large are received into one buffer of their size (see FrameReader.body). */
const LARGE_FRAME_BYTES = 256 * 1024;

/** Room for large frames being received, shared by several readers. */
export interface FrameBudget {
  reserve(bytes: number): boolean;
  release(bytes: number): void;
}

/** What FrameReader.read returns when no whole frame is buffered yet. */
export const NO_FRAME: unique symbol = Symbol('no frame');

export class FrameError extends Error {
  constructor(
    readonly code: 'frame-too-large' | 'frame-empty' | 'malformed' | 'busy',
    message: string,
  ) {
    super(message);
  }
}

export function encodeFrame(value: unknown): Buffer {
  const payload = packersOf().packr.pack(value);
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
  /**
   * The body of a large frame being received, allocated once at its announced size.
   * Socket chunks are copied in as they come and die young; kept in a list instead,
   * 16 MiB of them would outlive many scavenges, get promoted, and stay in memory
   * until a full GC, then be copied once more into one buffer to decode.
   */
  private body: Buffer | null = null;
  private bodyFilled = 0;

  /**
   * Largest payload accepted; a caller may lower it (e.g. before the peer's hello).
   * `budget`: room shared with other readers for large frames being received; a large
   * frame it has no room for is refused (FrameError 'busy').
   */
  constructor(
    public maxFrame = MAX_FRAME_BYTES,
    private readonly budget: FrameBudget | null = null,
  ) {}

  /** Appends a chunk and returns every frame now complete. */
  push(chunk: Buffer): unknown[] {
    this.append(chunk);
    const out: unknown[] = [];
    for (let v = this.read(); v !== NO_FRAME; v = this.read()) out.push(v);
    return out;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.body !== null && this.chunks.length === 0) {
      const n = Math.min(chunk.length, this.body.length - this.bodyFilled);
      chunk.copy(this.body, this.bodyFilled, 0, n);
      this.bodyFilled += n;
      this.buffered += n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete frame's value, or NO_FRAME when more bytes are needed. One frame
   * at a time, so a caller can change maxFrame between frames. The length is checked as
   * soon as the header is in: an oversized frame is refused before its body is read.
   */
  read(): unknown {
    if (this.body !== null) {
      if (this.bodyFilled < this.body.length) return NO_FRAME;
      const frame = this.body;
      this.body = null;
      this.budget?.release(frame.length);
      this.buffered -= HEADER_BYTES + frame.length;
      return decode(frame, packersOf().viewPackr);
    }
    if (this.buffered < HEADER_BYTES) return NO_FRAME;
    const len = this.peek(HEADER_BYTES).readUInt32BE(0);
    if (len === 0) throw new FrameError('frame-empty', 'frame of length 0');
    if (len > this.maxFrame) {
      throw new FrameError('frame-too-large', `frame of ${len} bytes exceeds the ${this.maxFrame}-byte limit`);
    }
    if (this.buffered < HEADER_BYTES + len) {
      if (len >= LARGE_FRAME_BYTES) this.startBody(len);
      return NO_FRAME;
    }
    return decode(this.take(HEADER_BYTES + len).subarray(HEADER_BYTES));
  }

  /** Drops whatever is buffered (a closed connection must not keep a partial 16 MiB frame alive). */
  clear(): void {
    if (this.body !== null) this.budget?.release(this.body.length);
    this.chunks = [];
    this.buffered = 0;
    this.body = null;
    this.bodyFilled = 0;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Moves what is buffered of a large frame (all of it is that frame's: it is incomplete) into its own buffer. */
  private startBody(len: number): void {
    if (this.budget && !this.budget.reserve(len)) {
      throw new FrameError('busy', `frame of ${len} bytes refused: too many large frames are being received at once; send it again later`);
    }
    const head = this.take(this.buffered);
    this.buffered = HEADER_BYTES;
    this.body = Buffer.allocUnsafeSlow(len);
    this.bodyFilled = 0;
    this.append(head.subarray(HEADER_BYTES));
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

function decode(frame: Buffer, unpacker = packersOf().packr): unknown {
  try {
    return unpacker.unpack(frame);
  } catch (err) {
    // msgpackr throws Error, RangeError (deep nesting), TypeError…: all mean "not one value".
    throw new FrameError('malformed', `payload is not one msgpack value (${err instanceof Error ? err.message : String(err)})`);
  }
}
