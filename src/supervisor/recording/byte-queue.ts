import { Recording } from '../../recording/limits';

// Text on its way to the disk, as bytes: written into buffers outside V8's heap as it
// comes, so that a flood's text is copied once, rather than joined into the string of a
// whole write and then encoded. A queue starts in a small buffer (a quiet agent writes a
// few bytes at a time), then goes on in big ones; while a flood keeps the writer busy,
// the big buffers it has written are used again (without that, written buffers waited
// for a full garbage collection: 39 MiB of them at the peak of a 100 MB flood, against an
// 8 MiB queue), and they are let go once it is idle.

const SMALL = Recording.WriteBytesMin;
const BIG = Recording.WriteBytes;
/** Big buffers kept for reuse, at most (a queue is at most Recording.QueueBytes). */
const MAX_SPARES = Math.ceil(Recording.QueueBytes / BIG) + 2;

const spares: ArrayBuffer[] = [];
const EMPTY = Buffer.alloc(0);

export class ByteQueue {
  private readonly done: Buffer[] = [];
  /** Allocated on the first write (a queue is taken once, then dropped). */
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Bytes queued. */
  bytes = 0;

  /** Appends `text`; `ascii`: it is known to be ASCII (copied as it is, without a UTF-8 pass). */
  write(text: string, ascii: boolean): void {
    const n = ascii ? text.length : Buffer.byteLength(text, 'utf8');
    if (this.pos + n > this.buf.length) this.next(n);
    this.buf.write(text, this.pos, n, ascii ? 'latin1' : 'utf8');
    this.pos += n;
    this.bytes += n;
  }

  /** Everything queued, in order (views of the queue's buffers); the queue is empty after. */
  take(): Buffer[] {
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    const out = this.done.splice(0);
    this.buf = EMPTY;
    this.pos = 0;
    this.bytes = 0;
    return out;
  }

  private next(n: number): void {
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    if (this.buf === EMPTY && n <= SMALL) this.buf = Buffer.allocUnsafe(SMALL);
    else {
      const spare = n <= BIG ? spares.pop() : undefined;
      this.buf = spare ? Buffer.from(spare) : Buffer.allocUnsafe(Math.max(n, BIG));
    }
    this.pos = 0;
  }

  /** Buffers that were taken and are written now: the big ones may hold the next bytes. */
  static written(bufs: Buffer[]): void {
    for (const b of bufs) {
      if (b.byteOffset === 0 && b.buffer.byteLength === BIG && spares.length < MAX_SPARES) spares.push(b.buffer as ArrayBuffer);
    }
  }

  /** The writer is idle: spare buffers go (an idle supervisor keeps no memory for a flood). */
  static idle(): void {
    spares.length = 0;
  }
}
