import * as fs from 'node:fs';
import * as path from 'node:path';
import { Terminal } from '@xterm/headless';
import { type IPty, spawn as ptySpawn } from 'node-pty';
import { SupervisorLink } from '../../src/link/supervisor-link';
import type { StatusReply } from '../../src/protocol/ops';
import type { ServerMessage } from '../../src/protocol/messages';
import { keepReadingAfterExit } from './pty-terminal';
import { CLI, type Sandbox } from './sandbox';

// A raw protocol viewer for tests: it speaks the real wire protocol to a real supervisor
// and feeds what it receives into its own headless terminal, the way a user's terminal
// would, while checking that the stream is joined to the snapshot by sequence number.

export function socketOf(sb: Sandbox, id: string): string {
  const cfg = JSON.parse(fs.readFileSync(path.join(sb.home, 'sessions', id, 'supervisor.json'), 'utf8')) as {
    socketPath: string;
  };
  return cfg.socketPath;
}

export interface ViewerOptions {
  readOnly?: boolean;
  cols?: number;
  rows?: number;
  /** Answer the agent's terminal queries like a real terminal (from its own emulator). */
  answerQueries?: boolean;
  /** Rewrites this viewer's DA1 answer to `ESC [ ? 1 ; 2 ; TAG c`, to tell answers apart. */
  daTag?: number;
  /** Keep the snapshot and stream for screen checks (off for pure counting in floods). */
  emulate?: boolean;
  /** History lines the emulator keeps (default 1000). */
  scrollback?: number;
}

export class Viewer {
  term: Terminal | null = null;
  lastSeq = -1;
  snapshots: Array<{ seq: number; reason: string; cols: number; rows: number }> = [];
  outputs = 0;
  outputBytes = 0;
  /** Broken joins: an output whose seq is not the one after the previous. */
  gaps: string[] = [];
  errors: Array<{ code: string; message: string }> = [];
  sizes: Array<{ cols: number; rows: number }> = [];
  exit: { code: number | null; signal: string | null } | null = null;
  closed = false;
  /** Output bytes received when each resync snapshot arrived. */
  bytesAtResync: number[] = [];
  /** Bytes handed to the emulator and not parsed yet: past a bound we stop reading, like a slow terminal. */
  private pendingBytes = 0;
  private stalled = false;
  private throttled = false;

  private constructor(
    readonly client: SupervisorLink,
    private readonly opts: ViewerOptions,
  ) {
    client.onMessage = (m) => this.message(m);
    client.onClose = () => {
      this.closed = true;
    };
  }

  static async attach(socket: string, opts: ViewerOptions = {}): Promise<Viewer> {
    const client = await SupervisorLink.connect(socket, {
      mode: 'attach',
      readOnly: opts.readOnly ?? false,
      cols: opts.cols ?? 80,
      rows: opts.rows ?? 24,
      timeoutMs: 15_000,
    });
    return new Viewer(client, opts);
  }

  get welcome() {
    return this.client.welcome;
  }

  private message(m: ServerMessage): void {
    switch (m.t) {
      case 'snapshot':
        this.snapshots.push({ seq: m.seq, reason: m.reason, cols: m.cols, rows: m.rows });
        if (m.reason === 'resync') this.bytesAtResync.push(this.outputBytes);
        this.lastSeq = m.seq;
        if (this.opts.emulate !== false) {
          this.term?.dispose();
          this.term = new Terminal({ cols: m.cols, rows: m.rows, scrollback: this.opts.scrollback ?? 1000, allowProposedApi: true });
          if (this.opts.answerQueries) this.term.onData((d) => this.answer(d));
          this.term.write(m.data);
        }
        return;
      case 'output':
        if (this.lastSeq < 0) this.gaps.push(`output ${m.seq} before any snapshot`);
        else if (m.seq !== this.lastSeq + 1) this.gaps.push(`output ${m.seq} after ${this.lastSeq}`);
        this.lastSeq = m.seq;
        this.outputs++;
        this.outputBytes += m.data.length;
        this.feed(m.data);
        return;
      case 'size':
        this.sizes.push({ cols: m.cols, rows: m.rows });
        // Like tmux: the screen is drawn for the size in use; this emulator follows it.
        this.term?.resize(m.cols, m.rows);
        return;
      case 'exit':
        this.exit = { code: m.code, signal: m.signal };
        return;
      case 'error':
        this.errors.push({ code: m.code, message: m.message });
        return;
      default:
        return;
    }
  }

  private feed(data: Uint8Array): void {
    const t = this.term;
    if (!t) return;
    this.pendingBytes += data.length;
    t.write(data, () => {
      this.pendingBytes -= data.length;
      if (this.throttled && this.pendingBytes < 512 * 1024) {
        this.throttled = false;
        if (!this.stalled) this.client.socket.resume();
      }
    });
    if (!this.throttled && this.pendingBytes > 4 * 1024 * 1024) {
      this.throttled = true;
      this.client.socket.pause();
    }
  }

  private answer(d: string): void {
    let out = d;
    if (this.opts.daTag !== undefined) out = out.replace(/\x1b\[\?[\d;]*c/g, `\x1b[?1;2;${this.opts.daTag}c`);
    this.input(out);
  }

  input(data: string | Buffer): void {
    this.client.send({ t: 'input', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data });
  }

  resize(cols: number, rows: number): void {
    this.client.send({ t: 'resize', cols, rows });
  }

  /** Stops reading from the socket (a stalled viewer), or starts again. */
  pause(): void {
    this.stalled = true;
    this.client.socket.pause();
  }
  resume(): void {
    this.stalled = false;
    if (!this.throttled) this.client.socket.resume();
  }

  /** Resolves once everything received so far is parsed by this viewer's emulator. */
  flush(): Promise<void> {
    const t = this.term;
    return t ? new Promise((r) => t.write('', r)) : Promise.resolve();
  }

  /** The visible screen as `agent capture` prints it (right-trimmed lines, no trailing blank lines). */
  screenText(): string {
    const t = this.term;
    if (!t) return '';
    const buf = t.buffer.active;
    const lines: string[] = [];
    for (let y = buf.baseY; y < buf.baseY + t.rows; y++) lines.push((buf.getLine(y)?.translateToString(true) ?? '').replace(/\s+$/, ''));
    while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
    return lines.join('\n');
  }

  cursor(): { x: number; y: number } {
    const buf = this.term!.buffer.active;
    return { x: buf.cursorX, y: buf.cursorY };
  }

  close(): void {
    this.term?.dispose();
    this.client.close();
  }
}

/** A control connection for status/capture requests. */
export async function control(socket: string, readOnly = false): Promise<SupervisorLink> {
  return SupervisorLink.connect(socket, { mode: 'control', readOnly, timeoutMs: 15_000 });
}

export async function status(socket: string): Promise<StatusReply> {
  const c = await control(socket);
  try {
    return await c.request('status', {});
  } finally {
    c.close();
  }
}

export async function captureJson(
  sb: Sandbox,
  id: string,
): Promise<{ text: string; cols: number; rows: number; cursor: { x: number; y: number } }> {
  const r = await sb.runAsync(['agent', 'capture', id, '--json']);
  if (r.code !== 0) throw new Error(`capture failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { text: string; cols: number; rows: number; cursor: { x: number; y: number } };
}

/**
 * The real `agent attach` CLI in a real pseudo-terminal (node-pty), its output drawn by a
 * headless terminal of the same size: what a user would see.
 */
export class CliViewer {
  readonly term: Terminal;
  readonly proc: IPty;
  raw = '';
  exitCode: number | null = null;
  readonly exited: Promise<number>;

  constructor(sb: Sandbox, id: string, opts: { cols?: number; rows?: number; args?: string[] } = {}) {
    const cols = opts.cols ?? 80;
    const rows = opts.rows ?? 24;
    this.term = new Terminal({ cols, rows, scrollback: 1000, allowProposedApi: true });
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(sb.env)) if (v !== undefined) env[k] = v;
    this.proc = ptySpawn(CLI, ['agent', 'attach', id, ...(opts.args ?? [])], {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: sb.work,
      env,
    });
    // Like a real terminal, answer the queries that pass through (DA, CPR).
    this.term.onData((d) => this.proc.write(d));
    let lastDataAt = Date.now();
    this.proc.onData((d) => {
      lastDataAt = Date.now();
      this.raw += d;
      this.term.write(d);
    });
    // The client's last words (the detach line) are in `raw` once it has exited.
    keepReadingAfterExit(this.proc, () => lastDataAt);
    this.exited = new Promise((resolve) =>
      this.proc.onExit(({ exitCode, signal }) => {
        this.exitCode = exitCode;
        this.signal = signal ?? null;
        // A signalled child shows as exit code 0 plus the signal (node-pty #461): not a success.
        resolve(signal ? 128 + signal : exitCode);
      }),
    );
  }

  signal: number | null = null;

  get pid(): number {
    return this.proc.pid;
  }

  type(s: string): void {
    this.proc.write(s);
  }

  flush(): Promise<void> {
    return new Promise((r) => this.term.write('', r));
  }

  screenText(): string {
    const buf = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = buf.baseY; y < buf.baseY + this.term.rows; y++) lines.push((buf.getLine(y)?.translateToString(true) ?? '').replace(/\s+$/, ''));
    while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
    return lines.join('\n');
  }

  cursor(): { x: number; y: number } {
    const buf = this.term.buffer.active;
    return { x: buf.cursorX, y: buf.cursorY };
  }

  kill(sig: NodeJS.Signals = 'SIGKILL'): void {
    try {
      process.kill(this.proc.pid, sig);
    } catch {
      /* gone */
    }
  }

  dispose(): void {
    this.kill();
    this.term.dispose();
  }
}
