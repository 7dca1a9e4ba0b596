import type { AttachStream, Disposable, StreamEnd } from '../client/types';
import { WebLimits } from './limits';
import { type View, type ViewHost, sendCapture } from './view';

// A live view holds an attach stream of its own (so every browser is one more viewer of the
// supervisor, and a slow one slows nobody): the stream's replay becomes a `screen`, its
// output `o`. A fresh screen is a new attach (the supervisor's replay is exact: screen,
// scrollback, modes, cursor), swapped in when its replay arrives. Typing is a writable attach
// with the page's size; keys sent before it is live are held.

const READ_ONLY_SIZE = { cols: 80, rows: 24 }; // a read-only attach's size is ignored by the supervisor

export class LiveView implements View {
  readonly mode = 'live';
  private stream: AttachStream | null = null;
  private listeners: Disposable[] = [];
  /** The current stream's replay has been sent. */
  private live = false;
  /** The current stream was attached writable (keys typed before it is live are held). */
  private writable = false;
  private generation = 0;
  private disposed = false;
  private held: string[] = [];
  private heldChars = 0;
  private size: { cols: number; rows: number } = READ_ONLY_SIZE;
  private _typing = false;

  constructor(private readonly host: ViewHost) {}

  get typing(): boolean {
    return this._typing;
  }

  start(): Promise<void> {
    return this.attach();
  }

  refresh(): void {
    void this.attach();
  }

  /** Takes the keyboard with this size (the stream becomes writable), or gives it back (null). */
  setTyping(size: { cols: number; rows: number } | null): Promise<void> {
    this._typing = size !== null;
    this.size = size ?? READ_ONLY_SIZE;
    this.held = [];
    this.heldChars = 0;
    return this.attach();
  }

  input(d: string): void {
    if (!this._typing || this.disposed) return;
    if (this.live && this.writable && this.stream) {
      this.stream.write(d);
      return;
    }
    // The writable stream is still attaching: the supervisor drops keys sent before its replay.
    if (this.heldChars + d.length > WebLimits.HeldInputChars) return;
    this.held.push(d);
    this.heldChars += d.length;
  }

  resize(cols: number, rows: number): void {
    if (!this._typing) return;
    this.size = { cols, rows };
    if (this.live && this.writable) this.stream?.resize(cols, rows);
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    this.drop();
  }

  private drop(): void {
    for (const l of this.listeners) l.dispose();
    this.listeners = [];
    this.stream?.detach();
    this.stream = null;
    this.live = false;
  }

  private async attach(): Promise<void> {
    const gen = ++this.generation;
    const { client, id } = this.host;
    const writable = this._typing;
    const size = this.size;
    const started = Date.now();
    let stream: AttachStream;
    try {
      stream = await client.attach(id, { ...size, readOnly: !writable });
    } catch (err) {
      if (gen === this.generation && !this.disposed) this.host.failed(err as Error);
      return;
    }
    if (gen !== this.generation || this.disposed) {
      stream.detach();
      return;
    }
    this.drop();
    this.stream = stream;
    this.writable = writable;
    const { flow, v } = this.host;
    this.listeners.push(
      // Before onData: held output is delivered when onData is registered, and its sizes
      // must be known by then.
      stream.onResize(({ cols, rows }) => {
        if (this.live) flow.control({ t: 'size', v, cols, rows });
      }),
      stream.onData((d) => {
        if (this.live) {
          flow.output(d);
          return;
        }
        // The first text of a stream is its replay (a reset, then the screen).
        this.live = true;
        flow.screen({ t: 'screen', v, d, cols: stream.cols, rows: stream.rows }, Date.now() - started);
        if (!this.writable) return;
        // The browser resized while this stream was attaching.
        if (this.size !== size) stream.resize(this.size.cols, this.size.rows);
        const held = this.held;
        this.held = [];
        this.heldChars = 0;
        for (const keys of held) stream.write(keys);
      }),
      stream.onExit((end) => this.streamEnded(stream, end)),
    );
  }

  private streamEnded(stream: AttachStream, end: StreamEnd): void {
    if (stream !== this.stream || end.reason === 'detached') return;
    this.drop();
    if (end.reason === 'lost') {
      this.host.ended({ code: null, signal: null, message: end.message });
      return;
    }
    const done = () => this.host.ended({ code: end.code, signal: end.signal, message: null });
    // A browser that was behind missed the last output: it gets the last screen first.
    if (!this.host.flow.isBehind) return done();
    void sendCapture(this.host).then(done, done);
  }
}

