import * as pty from 'node-pty';
import { BenchError, now, withTimeout } from './util';

// The user's terminal, played by the benchmark: a real pseudo-terminal (node-pty) whose
// master side the benchmark reads and writes, with an attach client (or, for the physical
// baseline, the agent itself) on the slave side. What "appears on the screen" is the text of
// the output stream with escape sequences removed, timestamped as it arrives.

/** Streaming removal of escape sequences (CSI, OSC, DCS/APC/PM/SOS, two-byte ESC x). */
export class AnsiStripper {
  private state = 0;

  /** Returns the printable text (and newlines) of `chunk`. */
  feed(chunk: string): string {
    let out = '';
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === 0) {
        // Ground: everything up to the next ESC, less the control characters but \n.
        let j = chunk.indexOf('\x1b', i);
        if (j < 0) j = n;
        if (j > i) out += chunk.slice(i, j).replace(CONTROLS, '');
        if (j < n) this.state = 1;
        i = j + 1;
        continue;
      }
      const c = chunk.charCodeAt(i++);
      switch (this.state) {
        case 1: // after ESC
          if (c === 0x5b) this.state = 2; // [
          else if (c === 0x5d) this.state = 3; // ]
          else if (c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) this.state = 4; // P X ^ _
          else if (c >= 0x20 && c <= 0x2f) this.state = 5; // intermediate: ESC ( B, ESC # 8…
          else this.state = 0;
          break;
        case 2: // CSI parameters and intermediates, until a final byte
          if (c >= 0x40 && c <= 0x7e) this.state = 0;
          else if (c === 0x1b) this.state = 1;
          break;
        case 3: // OSC: until BEL or ST
        case 4: // string: until ST
          if (c === 0x07 && this.state === 3) this.state = 0;
          else if (c === 0x1b) this.state = 6;
          break;
        case 5:
          if (c < 0x20 || c > 0x2f) this.state = 0;
          break;
        case 6: // ESC inside a string: ESC \ ends it
          this.state = c === 0x5c ? 0 : 4;
          break;
      }
    }
    return out;
  }
}

// C0 controls except \n, and DEL.
const CONTROLS = /[\x00-\x09\x0b-\x1a\x1c-\x1f\x7f]/g;

export interface OuterOptions {
  cols: number;
  rows: number;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Keep the visible text (default true); turn off during floods to only count bytes. */
  track?: boolean;
  /** Keep every character received, as received (rawText()). */
  keepRaw?: boolean;
}

interface Waiter {
  check: () => boolean;
  resolve: (t: number) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const MAX_TEXT = 4 * 1024 * 1024;
const TAIL = 8192;
/** Characters of earlier text kept before each new chunk for searches (see `recent`). */
const RECENT_KEEP = 4096;

/** Every outer terminal still open: closed on Ctrl-C. */
export const liveTerms = new Set<OuterTerm>();

export class OuterTerm {
  readonly p: pty.IPty;
  readonly startedAt: number;
  /** Characters received so far (bytes for ASCII output). */
  chars = 0;
  firstDataAt: number | null = null;
  lastDataAt: number | null = null;
  /** Visible text; `dropped` characters were cut from its front to bound memory. */
  private text = '';
  private dropped = 0;
  /**
   * The visible text of the last chunk with up to RECENT_KEEP characters before it, from
   * absolute position `recentStart`: what waits search. Searching `text` itself, one long
   * string built by appending, made V8 copy all of it on every chunk: 18 ms of this
   * process's time for a 380 KB attach replay, counted against the system measured.
   */
  private recent = '';
  private recentStart = 0;
  /** The last characters received, raw, always kept. */
  tail = '';
  track: boolean;
  private readonly raw: string[] | null;
  exit: { code: number; signal: number | undefined; at: number } | null = null;
  readonly exited: Promise<{ code: number; signal: number | undefined; at: number }>;
  private readonly stripper = new AnsiStripper();
  private waiters = new Set<Waiter>();
  private readonly what: string;

  constructor(file: string, args: string[], opts: OuterOptions) {
    this.what = [file, ...args].join(' ');
    this.track = opts.track !== false;
    this.raw = opts.keepRaw ? [] : null;
    this.startedAt = now();
    this.p = pty.spawn(file, args, {
      name: 'xterm-256color',
      cols: opts.cols,
      rows: opts.rows,
      cwd: opts.cwd,
      env: opts.env as { [key: string]: string },
    });
    liveTerms.add(this);
    this.p.onData((d) => this.onData(d));
    this.exited = new Promise((resolve) => {
      this.p.onExit(({ exitCode, signal }) => {
        this.exit = { code: exitCode, signal, at: now() };
        liveTerms.delete(this);
        resolve(this.exit);
        this.checkWaiters();
      });
    });
  }

  private onData(d: string): void {
    const t = now();
    if (this.firstDataAt === null) this.firstDataAt = t;
    this.lastDataAt = t;
    this.chars += d.length;
    this.raw?.push(d);
    this.tail = d.length >= TAIL ? d.slice(-TAIL) : (this.tail + d).slice(-TAIL);
    if (!this.track) {
      if (this.waiters.size) this.checkWaiters(t);
      return;
    }
    const piece = this.stripper.feed(d);
    const keep = this.recent.length > RECENT_KEEP ? this.recent.slice(-RECENT_KEEP) : this.recent;
    this.recentStart = this.mark - keep.length;
    this.recent = keep + piece;
    this.text += piece;
    if (this.text.length > MAX_TEXT) {
      const cut = this.text.length - MAX_TEXT / 2;
      this.text = this.text.slice(cut);
      this.dropped += cut;
    }
    this.checkWaiters(t);
  }

  private checkWaiters(t = now()): void {
    for (const w of this.waiters) {
      if (w.check()) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(t);
      }
    }
  }

  /** Everything received so far, as received (with keepRaw). */
  rawText(): string {
    if (!this.raw) throw new BenchError('this terminal keeps no raw text (keepRaw)');
    return this.raw.join('');
  }

  /** Position (absolute) of the end of the visible text so far. */
  get mark(): number {
    return this.dropped + this.text.length;
  }

  /** Whether `s` appears in the visible text at or after absolute position `from`. */
  seen(s: string, from = 0): boolean {
    if (from >= this.recentStart) return this.recent.indexOf(s, from - this.recentStart) >= 0;
    return this.text.indexOf(s, Math.max(0, from - this.dropped)) >= 0;
  }

  /** Resolves with the time the condition became true (checked on every chunk received). */
  waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
    if (check()) return Promise.resolve(now());
    const p = new Promise<number>((resolve, reject) => {
      const w: Waiter = {
        check,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          const state = this.exit ? `it exited with code ${this.exit.code}` : `${this.chars} chars received`;
          const shown = JSON.stringify(this.text.slice(-300));
          reject(new BenchError(`timed out after ${timeoutMs} ms waiting for ${what} in the terminal of \`${this.what}\` (${state}; last text: ${shown})`));
        }, timeoutMs),
      };
      w.timer.unref(); // a forgotten wait never keeps the benchmark alive
      this.waiters.add(w);
    });
    // A wait cancelled by close() after its caller moved on is no unhandled rejection.
    p.catch(() => undefined);
    return p;
  }

  /** Like waitFor(seen(s, from)), but each check only scans the text that is new. */
  waitText(s: string, timeoutMs: number, from = 0): Promise<number> {
    let next = from;
    return this.waitFor(
      () => {
        const found = this.seen(s, next);
        next = Math.max(from, this.mark - s.length + 1);
        return found;
      },
      timeoutMs,
      JSON.stringify(s),
    );
  }

  /** Resolves once no data has arrived for `quietMs` (bounded by `timeoutMs`). */
  async quiet(quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const last = this.lastDataAt ?? this.startedAt;
      const idle = now() - last;
      if (idle >= quietMs || this.exit) return;
      if (now() > deadline) throw new BenchError(`the terminal of \`${this.what}\` never went quiet for ${quietMs} ms`);
      await new Promise((r) => setTimeout(r, Math.max(1, quietMs - idle)));
    }
  }

  write(s: string): void {
    this.p.write(s);
  }

  /** Text tracking on, from now on; the stripper state is kept. */
  resetText(): void {
    this.dropped += this.text.length;
    this.text = '';
    this.recent = '';
    this.recentStart = this.dropped;
  }

  /** Rejects every pending wait: nothing more will be read. */
  private cancelWaiters(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new BenchError(`the terminal of \`${this.what}\` was closed`));
    }
    this.waiters.clear();
  }

  async close(timeoutMs = 3000): Promise<void> {
    this.cancelWaiters();
    if (this.exit) return;
    try {
      this.p.kill('SIGHUP');
    } catch {
      /* gone */
    }
    const t = setTimeout(() => {
      try {
        if (!this.exit) this.p.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    await withTimeout(this.exited, timeoutMs * 2, `\`${this.what}\` to exit`).finally(() => clearTimeout(t));
  }

  /** For the Ctrl-C path: no waiting. */
  killNow(): void {
    this.cancelWaiters();
    try {
      this.p.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}
