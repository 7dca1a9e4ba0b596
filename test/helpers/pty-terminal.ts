import * as fs from 'node:fs';
import { Terminal } from '@xterm/headless';
import * as pty from 'node-pty';
import { waitFor } from './sandbox';

// A terminal driven from the test process, for where tmux is not wanted (tests without
// tmux on PATH) or cannot show something (the raw bytes, e.g. the cursor style): the
// command runs on a real node-pty, every byte it writes is kept and also fed to a
// headless xterm, whose screen the test reads.

export class PtyTerminal {
  readonly term: Terminal;
  private readonly proc: pty.IPty;
  /** Everything the program wrote, as text. */
  raw = '';
  exitCode: number | null = null;
  readonly exited: Promise<number>;

  constructor(argv: string[], opts: { cols: number; rows: number; env: NodeJS.ProcessEnv; cwd: string }) {
    // The title stack on, as xterm, VTE, kitty and tmux have it (xterm.js keeps it off by default).
    this.term = new Terminal({ cols: opts.cols, rows: opts.rows, scrollback: 10_000, allowProposedApi: true, windowOptions: { pushTitle: true, popTitle: true } });
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env[k] = v;
    this.proc = pty.spawn(argv[0]!, argv.slice(1), { name: 'xterm-256color', cols: opts.cols, rows: opts.rows, cwd: opts.cwd, env });
    this.proc.onData((d) => {
      this.lastDataAt = Date.now();
      this.raw += d;
      this.term.write(d);
    });
    this.realDestroy = keepReadingAfterExit(this.proc, () => this.lastDataAt);
    // Resolved once xterm has parsed everything the program wrote: its last words (a
    // detach message) are on text() when a test reads it after the exit.
    this.exited = new Promise((resolve) =>
      this.proc.onExit(({ exitCode }) => {
        this.exitCode = exitCode;
        this.term.write('', () => resolve(exitCode));
      }),
    );
  }

  private lastDataAt = Date.now();
  private realDestroy: (() => void) | null = null;

  get pid(): number {
    return this.proc.pid;
  }

  write(data: string): void {
    this.proc.write(data);
  }

  /** Stops reading the program's output (a terminal that stalls), and resumes. */
  pause(): void {
    this.proc.pause();
  }
  resume(): void {
    this.proc.resume();
  }

  resize(cols: number, rows: number): void {
    this.proc.resize(cols, rows);
    this.term.resize(cols, rows);
  }

  /** The visible screen as text, trailing blanks trimmed. */
  text(): string {
    const buf = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = buf.baseY; y < buf.baseY + this.term.rows; y++) lines.push(buf.getLine(y)?.translateToString(true) ?? '');
    return lines.join('\n').replace(/\n+$/, '');
  }

  /** Resolves once the parsed screen matches. */
  async waitText(re: RegExp, timeoutMs = 30_000): Promise<string> {
    return waitFor(async () => {
      await new Promise<void>((r) => this.term.write('', r));
      const t = this.text();
      return re.test(t) ? t : null;
    }, timeoutMs);
  }

  async waitRaw(re: RegExp, timeoutMs = 30_000): Promise<string> {
    return waitFor(() => (re.test(this.raw) ? this.raw : null), timeoutMs);
  }

  /** Closes the terminal itself (its master side): a hang-up, as when an ssh connection drops. */
  hangUp(): void {
    this.realDestroy?.();
  }

  kill(): void {
    try {
      this.proc.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * node-pty destroys its stream 200 ms after the program exits (node-pty #726), and drops
 * what this process has not read yet: a test far behind a flood lost the program's last
 * words, and a loaded machine a detaching client's. As the supervisor does (agent-process.ts):
 * hold the slave open so the master never reads EIO early; after the exit, close it once
 * output has been quiet for 100 ms (`lastDataAt`), and let the stream end by itself.
 * Returns what closes everything at once (for a test that kills the program).
 */
export function keepReadingAfterExit(proc: pty.IPty, lastDataAt: () => number): () => void {
  const sock = (proc as unknown as { _socket?: { destroy: () => void; destroyed: boolean } })._socket;
  const ptsName = (proc as unknown as { ptsName?: unknown }).ptsName;
  if (!sock || typeof ptsName !== 'string') throw new Error('node-pty internals changed: _socket / ptsName');
  let holdFd: number | null = fs.openSync(ptsName, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const realDestroy = sock.destroy.bind(sock);
  let releasing = false;
  sock.destroy = () => {
    if (holdFd === null) return realDestroy();
    if (releasing) return;
    releasing = true;
    const started = Date.now();
    const check = () => {
      if (holdFd === null) return;
      if (Date.now() - lastDataAt() < 100 && Date.now() - started < 20_000) return void setTimeout(check, 20);
      fs.closeSync(holdFd);
      holdFd = null;
      setTimeout(() => sock.destroyed || realDestroy(), 2000); // should the end never come
    };
    check();
  };
  return () => {
    if (holdFd !== null) fs.closeSync(holdFd);
    holdFd = null;
    realDestroy();
  };
}
