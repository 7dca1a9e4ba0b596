import * as fs from 'node:fs';
import { type CastHeader, type CastItem, decodeEvent, decodeHeader } from '../recording/asciicast';
import { listRecordingParts } from './recording-files';

// Reads a session's recording in order, part after part, as far as it is written, and
// on from there when asked again (`logs --follow`). It holds each part open while it
// reads it, so a part removed by rotation meanwhile is still read to its end. Part N is
// complete once part N+1 exists (the supervisor's writer finishes one before it begins
// the next), so the tail moves on only after a last read of N. A line is taken once it
// ends with a newline: the last one of a part may still be being written; a part cut
// short by a failure ends at its last whole line anyway.

/** Bytes read from the disk at a time. */
const READ_BYTES = 1024 * 1024;

export class RecordingTail {
  private fd: number | null = null;
  private part = 0;
  private offset = 0;
  private rest: Buffer = Buffer.alloc(0);
  private header: CastHeader | null = null;
  /** Lines that could not be read (not asciicast, or cut short). */
  skipped = 0;

  constructor(private readonly dir: string) {}

  /** Everything written since the last call, in order; it ends where the recording ends now. */
  async *read(): AsyncGenerator<CastItem> {
    for (;;) {
      if (this.fd === null && !(await this.openNext())) return;
      yield* this.readToEnd();
      const next = listRecordingParts(this.dir).find((p) => p.part > this.part);
      if (!next) return;
      // This part is complete now: whatever reached it since the read above, then the next.
      yield* this.readToEnd();
      await this.closePart();
    }
  }

  /** Lets go of the open part (a reader that stops early). */
  async close(): Promise<void> {
    await this.closePart();
  }

  private async openNext(): Promise<boolean> {
    for (const p of listRecordingParts(this.dir)) {
      if (p.part <= this.part) continue;
      try {
        this.fd = await new Promise<number>((resolve, reject) => fs.open(p.path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
      } catch {
        continue; // removed by rotation between the listing and here: the next one
      }
      this.part = p.part;
      this.offset = 0;
      this.rest = Buffer.alloc(0);
      this.header = null;
      return true;
    }
    return false;
  }

  private async closePart(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    if (this.rest.length > 0) this.skipped++; // a last line never finished
    this.rest = Buffer.alloc(0);
    if (fd !== null) await new Promise<void>((r) => fs.close(fd, () => r()));
  }

  private async *readToEnd(): AsyncGenerator<CastItem> {
    const fd = this.fd;
    if (fd === null) return;
    const buf = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const n = await new Promise<number>((resolve, reject) => fs.read(fd, buf, 0, READ_BYTES, this.offset, (err, got) => (err ? reject(err) : resolve(got))));
      if (n === 0) return;
      this.offset += n;
      const data = this.rest.length > 0 ? Buffer.concat([this.rest, buf.subarray(0, n)]) : buf.subarray(0, n);
      const lastNl = data.lastIndexOf(0x0a);
      // The unfinished line waits for the rest (copied: the read buffer is used again).
      this.rest = Buffer.from(data.subarray(lastNl + 1));
      if (lastNl < 0) continue;
      for (const line of data.toString('utf8', 0, lastNl).split('\n')) {
        const item = this.decode(line);
        if (item) yield item;
      }
    }
  }

  private decode(line: string): CastItem | null {
    if (this.header === null) {
      this.header = decodeHeader(line);
      if (this.header) return { kind: 'header', part: this.part, header: this.header };
      this.skipped++;
      return null;
    }
    const event = decodeEvent(line);
    if (event) return { kind: 'event', part: this.part, event };
    this.skipped++;
    return null;
  }
}
