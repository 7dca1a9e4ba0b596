import * as fs from 'node:fs';
import { ByteQueue } from './byte-queue';

// The recording's files, written in the background: the supervisor's hot path only queues
// text here; one operation at a time (open a part, append, remove an old part, close)
// goes to the disk in order, so a part is complete before the next one exists (a reader
// that sees part N+1 may finish part N). Nothing here throws into the caller: the first
// failure (a full disk: ENOSPC, EDQUOT; EROFS; anything else) stops the recording, cuts
// the file back to its last whole line (a truncated line would break asciinema) and is
// reported once.

type Op = { kind: 'open'; path: string } | { kind: 'write'; queue: ByteQueue } | { kind: 'remove'; path: string } | { kind: 'close' };

export class BackgroundWriter {
  private ops: Op[] = [];
  /** Bytes in write operations not yet taken to the disk. */
  private queuedBytes = 0;
  private running = false;
  private fd: number | null = null;
  private path = '';
  /** Where the last whole write of the open file ends. */
  private end = 0;
  private failed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    /** Called once, with what stopped the recording. */
    private readonly onFailure: (err: NodeJS.ErrnoException, path: string) => void,
  ) {}

  /** Bytes waiting for the disk. */
  get queued(): number {
    return this.queuedBytes;
  }

  get stopped(): boolean {
    return this.failed;
  }

  /** Closes the file being written, if any, and starts a new one (created, private). */
  open(path: string): void {
    this.push({ kind: 'open', path });
  }

  /** Appends text to the file opened last; `ascii`: known to be ASCII. */
  append(text: string, ascii = false): void {
    if (this.failed) return;
    let last = this.ops[this.ops.length - 1];
    // Appends in a row become one write: few system calls in a flood.
    if (last?.kind !== 'write') {
      last = { kind: 'write', queue: new ByteQueue() };
      this.ops.push(last);
    }
    const before = last.queue.bytes;
    last.queue.write(text, ascii);
    this.queuedBytes += last.queue.bytes - before;
    this.kick();
  }

  /** Removes a file, in order with the rest (an old part). */
  remove(path: string): void {
    this.push({ kind: 'remove', path });
  }

  /** Resolves once everything queued is on the disk and the file is closed (or the writer failed). */
  close(): Promise<void> {
    this.push({ kind: 'close' });
    return this.idle();
  }

  /** Resolves when nothing is queued. */
  idle(): Promise<void> {
    if (!this.running && this.ops.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private push(op: Op): void {
    if (this.failed) return;
    this.ops.push(op);
    this.kick();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // Later: the caller is the agent's output path, which must not wait for this.
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    try {
      for (let op = this.ops.shift(); op && !this.failed; op = this.ops.shift()) {
        await this.perform(op);
      }
    } catch (err) {
      await this.fail(err as NodeJS.ErrnoException);
    }
    this.running = false;
    if (this.ops.length > 0 && !this.failed) return this.kick();
    ByteQueue.idle();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async perform(op: Op): Promise<void> {
    switch (op.kind) {
      case 'open':
        await this.closeFile();
        this.path = op.path;
        this.fd = await openPrivate(op.path);
        this.end = 0;
        return;
      case 'write': {
        this.queuedBytes -= op.queue.bytes;
        const bufs = op.queue.take();
        if (this.fd === null) return;
        // A regular file takes all of a write, short of a full disk (then the next one fails).
        let rest = bufs;
        while (rest.length > 0) rest = skip(rest, await writev(this.fd, rest));
        this.end += bufs.reduce((n, b) => n + b.length, 0);
        ByteQueue.written(bufs);
        return;
      }
      case 'remove':
        await fs.promises.rm(op.path, { force: true });
        return;
      case 'close':
        await this.closeFile();
        return;
    }
  }

  private async closeFile(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await new Promise<void>((r) => fs.close(fd, () => r()));
  }

  private async fail(err: NodeJS.ErrnoException): Promise<void> {
    this.failed = true;
    this.ops = [];
    this.queuedBytes = 0;
    const fd = this.fd;
    if (fd !== null) {
      // Back to the last whole line: a part must stay readable (and it frees the space
      // the cut line took, room for the log line that says why).
      await new Promise<void>((r) => fs.ftruncate(fd, this.end, () => r()));
    }
    await this.closeFile();
    this.onFailure(err, this.path);
  }
}

function writev(fd: number, bufs: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => fs.writev(fd, bufs, (err, n) => (err ? reject(err) : resolve(n))));
}

/** What is left of `bufs` after its first `n` bytes. */
function skip(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (n >= b.length) n -= b.length;
    else {
      out.push(n > 0 ? b.subarray(n) : b);
      n = 0;
    }
  }
  return out;
}

/** A new file, mode 0600, never through a symlink; a leftover of the same name is replaced. */
async function openPrivate(path: string): Promise<number> {
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW | fs.constants.O_APPEND;
  const open = () => new Promise<number>((resolve, reject) => fs.open(path, flags, 0o600, (err, fd) => (err ? reject(err) : resolve(fd))));
  try {
    return await open();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await fs.promises.rm(path, { force: true });
    return open();
  }
}
