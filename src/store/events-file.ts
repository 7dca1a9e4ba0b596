import * as fs from 'node:fs';
import { type SessionEvent, decodeEvent } from '../protocol/events';
import { writeFileAtomic } from '../sys/atomic-write';
import { openForAppend, readFileOrNull } from '../sys/read-file';

// events.jsonl in sessions/ID/: the session's events, one JSON line each, written by its
// supervisor as they happen (appended, not fsynced: a power cut may lose the last few, and
// an event is worth less than an fsync on every state change) and read by anyone after, or
// for what a supervisor no longer holds in memory. Bounded: past EVENTS_FILE_MAX bytes the
// older half is dropped. A line cut short (a full disk) is skipped on reading.

/** The file's bound (~2 500 events of 200 bytes). */
export const EVENTS_FILE_MAX = 512 * 1024;

/** Every event the file holds, in order; [] when there is none. */
export function readEventsFile(file: string): SessionEvent[] {
  const text = readFileOrNull(file);
  if (!text) return [];
  const out: SessionEvent[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const e = decodeEvent(JSON.parse(line));
      if (e) out.push(e);
    } catch {
      /* a line cut short, or not ours */
    }
  }
  return out;
}

/** The number after the last event the file holds (1 for none): where a new supervisor goes on. */
export function nextSeqIn(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return 1;
  }
  try {
    // The last lines are enough: read the tail, not the whole file.
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, 16 * 1024);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n').reverse();
    for (const line of lines) {
      const m = /"seq":(\d+)/.exec(line);
      if (m) return Number(m[1]) + 1;
    }
    return 1;
  } catch {
    return 1;
  } finally {
    fs.closeSync(fd);
  }
}

/** Appends events to the file, keeping it bounded; write errors are reported, never thrown. */
export class EventsFileWriter {
  private fd: number | null = null;
  private size = 0;

  constructor(
    private readonly file: string,
    private readonly onError: (err: Error) => void,
  ) {}

  append(e: SessionEvent): void {
    const line = Buffer.from(`${JSON.stringify(e)}\n`, 'utf8');
    try {
      if (this.fd === null) {
        this.fd = openForAppend(this.file);
        this.size = fs.fstatSync(this.fd).size;
      }
      if (this.size + line.length > EVENTS_FILE_MAX) this.halve();
      for (let off = 0; off < line.length; ) off += fs.writeSync(this.fd!, line, off);
      this.size += line.length;
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Keeps the newer half of the file (rewritten atomically: the file stays whole on failure). */
  private halve(): void {
    const text = readFileOrNull(this.file) ?? '';
    const cut = text.indexOf('\n', Math.floor(text.length / 2));
    const kept = cut < 0 ? '' : text.slice(cut + 1);
    writeFileAtomic(this.file, kept, { durable: false });
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = openForAppend(this.file);
    this.size = Buffer.byteLength(kept);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** An `events` reply from the file's events (an ended session, or one that does not answer). */
export function eventsFromFile(all: SessionEvent[], args: { since: number; limit: number }): { events: SessionEvent[]; next: number; lost: number } {
  const oldest = all[0]?.seq ?? 1;
  const from = all.filter((e) => e.seq >= args.since);
  const events = from.slice(0, args.limit);
  const last = all[all.length - 1]?.seq ?? 0;
  return {
    events,
    next: events.length > 0 ? events[events.length - 1]!.seq + 1 : Math.max(args.since, last + 1),
    lost: args.since > 0 && args.since < oldest ? oldest - args.since : 0,
  };
}
