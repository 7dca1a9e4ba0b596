import { StringDecoder } from 'node:string_decoder';
import { UserError } from '../../errors';
import { SupervisorLink } from '../../link/supervisor-link';
import { RECORDS_ATTACH, type ServerMessage } from '../../protocol/messages';
import { BEFORE_REPLAY, LEGACY_KEY_RESET, ON_LEAVE } from '../../terminal-modes';
import type { AttachStream, Disposable, StreamAttachOptions, StreamEnd } from '../backend';

// An attach as a stream object, for a program that draws the agent in a terminal of its
// own (an editor's terminal, a web page): the supervisor's frames turned into text, keys
// and sizes turned into frames. Nothing here touches this process's terminal.

/** Text held for a stream nobody listens to yet (its replay usually arrives with the welcome). */
const HELD_MAX_CHARS = 64 << 20;

type Listener<T> = (v: T) => void;

function on<T>(set: Set<Listener<T>>, fn: Listener<T>): Disposable {
  set.add(fn);
  return { dispose: () => set.delete(fn) };
}

class PtyAttachStream implements AttachStream {
  cols: number;
  rows: number;
  private readonly data = new Set<Listener<string>>();
  private readonly resized = new Set<Listener<{ cols: number; rows: number }>>();
  private readonly exited = new Set<Listener<StreamEnd>>();
  private held: string[] = [];
  private heldChars = 0;
  private decoder = new StringDecoder('utf8');
  private end: StreamEnd | null = null;
  /** What undoes the keyboard modes the replay and the agent set (null: none replayed yet, or an older supervisor). */
  private keyLeave: string | null = null;
  private replayed = false;
  constructor(
    private readonly link: SupervisorLink,
    private readonly readOnly: boolean,
  ) {
    this.cols = link.welcome.session.cols;
    this.rows = link.welcome.session.rows;
    link.onClose = (err) => this.finish({ reason: 'lost', message: err?.message ?? 'the supervisor closed the connection' });
    link.onMessage = (m) => this.message(m);
  }

  private message(m: ServerMessage): void {
    switch (m.t) {
      case 'snapshot':
        // A replay (or a resync after falling behind) starts from a clean terminal.
        this.decoder = new StringDecoder('utf8');
        this.setSize(m.cols, m.rows);
        this.emit((this.replayed ? this.undo() : '') + BEFORE_REPLAY + m.data);
        this.replayed = true;
        this.keyLeave = m.leave;
        return;
      case 'leave':
        this.keyLeave = m.data;
        return;
      case 'output':
        this.emit(this.decoder.write(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength)));
        return;
      case 'size':
        this.setSize(m.cols, m.rows);
        return;
      case 'exit':
        this.emit(this.undo() + ON_LEAVE);
        this.finish({ reason: 'exit', code: m.code, signal: m.signal });
        return;
      case 'error':
        this.finish({ reason: 'lost', message: m.message });
        return;
      default:
        return;
    }
  }

  private undo(): string {
    return this.keyLeave ?? LEGACY_KEY_RESET;
  }

  private setSize(cols: number, rows: number): void {
    if (cols === this.cols && rows === this.rows) return;
    this.cols = cols;
    this.rows = rows;
    for (const l of this.resized) l({ cols, rows });
  }

  private emit(text: string): void {
    if (text === '') return;
    if (this.data.size === 0) {
      // Held until someone listens; a stream nobody reads must not grow without bound.
      if (this.heldChars + text.length > HELD_MAX_CHARS) return;
      this.held.push(text);
      this.heldChars += text.length;
      return;
    }
    for (const l of this.data) l(text);
  }

  private finish(end: StreamEnd): void {
    if (this.end) return;
    this.end = end;
    this.link.close();
    for (const l of this.exited) l(end);
  }

  onData(listener: Listener<string>): Disposable {
    const d = on(this.data, listener);
    const held = this.held;
    this.held = [];
    this.heldChars = 0;
    for (const t of held) listener(t);
    return d;
  }

  onResize(listener: Listener<{ cols: number; rows: number }>): Disposable {
    return on(this.resized, listener);
  }

  onExit(listener: Listener<StreamEnd>): Disposable {
    if (this.end) {
      const end = this.end;
      queueMicrotask(() => listener(end));
    }
    return on(this.exited, listener);
  }

  write(data: string | Uint8Array): void {
    if (this.readOnly || this.end) return;
    this.link.send({ t: 'input', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data });
  }

  resize(cols: number, rows: number): void {
    if (this.readOnly || this.end) return;
    this.link.send({ t: 'resize', cols: Math.max(1, Math.min(1000, cols)), rows: Math.max(1, Math.min(1000, rows)) });
  }

  redraw(): void {
    if (this.end) return;
    this.link.send({ t: 'redraw' });
  }

  detach(): void {
    if (this.end) return;
    // The terminal is left as it was found, as on the agent's exit.
    if (this.replayed) this.emit(this.undo() + ON_LEAVE);
    this.link.send({ t: 'detach' });
    this.finish({ reason: 'detached' });
  }
}

export async function attachStream(id: string, socketPath: string, opts: StreamAttachOptions): Promise<AttachStream> {
  let link: SupervisorLink;
  try {
    link = await SupervisorLink.connect(socketPath, { mode: 'attach', readOnly: opts.readOnly, cols: opts.cols, rows: opts.rows });
  } catch (err) {
    throw new UserError(`Cannot attach to agent session ${id}: ${(err as Error).message}`);
  }
  const stream = new PtyAttachStream(link, opts.readOnly);
  // A supervisor that says records-attach writes last_attached itself; older ones leave it to us.
  if (!link.welcome.features.includes(RECORDS_ATTACH)) opts.onAttached?.();
  return stream;
}
