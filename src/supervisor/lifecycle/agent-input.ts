import * as fs from 'node:fs';

// Input for the agent, written to its pty master in order. The master is non-blocking:
// what the agent's terminal does not take now waits here and is tried again later. Not
// node-pty's own queue: it retries a refused write at once, again and again (an agent that
// did not read its input kept the supervisor at 63 % CPU), and it holds any amount. Here a
// refused write is tried again after a growing pause, and the bytes waiting are counted,
// so that writers can be held back past Flood.AgentInputBytes (../input-path.ts).

/** Pauses between tries while the agent takes nothing: short at first, then at most this (ms)… */
const RETRY_MAX_MS = 50;
/** …starting from this, each try that wrote nothing doubling it; a try that wrote something starts over. */
const RETRY_FIRST_MS = 1;

export class AgentInput {
  private readonly queue: Buffer[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private delay = 0;
  /** Set once the pty is gone: nothing more is written. */
  private closed = false;

  constructor(private readonly fd: number) {}

  /** Bytes waiting for the agent. */
  get waiting(): number {
    return this.bytes;
  }

  /** Writes waiting (keys must not overtake them). */
  get pendingWrites(): number {
    return this.queue.length;
  }

  write(data: Buffer): void {
    if (this.closed || data.length === 0) return;
    if (this.queue.length === 0) {
      const n = this.tryWrite(data);
      if (n === data.length || this.closed) return;
      data = data.subarray(n);
    }
    this.queue.push(data);
    this.bytes += data.length;
    this.schedule();
  }

  /** The agent is gone: what waits is dropped. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.bytes = 0;
  }

  /** Bytes the terminal took now (0 when full); a hard error closes the input. */
  private tryWrite(data: Buffer): number {
    try {
      return fs.writeSync(this.fd, data);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') this.close(); // EIO: the agent's terminal is gone
      return 0;
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.delay);
  }

  private flush(): void {
    const before = this.bytes;
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0]!;
      const n = this.tryWrite(head);
      this.bytes -= n;
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        break;
      }
      this.queue.shift();
    }
    if (this.closed) return;
    this.delay = this.bytes < before ? 0 : Math.min(RETRY_MAX_MS, Math.max(RETRY_FIRST_MS, this.delay * 2));
    if (this.queue.length > 0) this.schedule();
  }
}
