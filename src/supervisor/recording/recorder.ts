import { describeFsError } from '../../errors';
import { exitMarker, resizeData } from '../../recording/asciicast';
import { Recording } from '../../recording/limits';
import type { RecordingSettings } from '../../recording/settings';
import { log } from '../lifecycle/log';
import { BackgroundWriter } from './background-writer';
import { type RotationHost, Rotation } from './rotation';
import { Utf8Stream } from './utf8-stream';

// The session on the record: what the agent printed (`o`), every resize (`r`), markers
// (`m`) for task deliveries, viewers coming and going, output that could not be recorded
// and the exit; what was typed (`i`) only when asked. The supervisor tells this sink what
// happens; it encodes and queues, and the writer takes it to the disk later: the agent
// never waits. A disk that falls behind loses output (said by a marker); a disk that
// fails (full, read-only) ends the recording with one line in the log, never the agent.

export interface RecordingSink {
  /** A chunk of the agent's output (before the mirror sees it). */
  output(data: Buffer): void;
  /** What reached the agent from viewers, `send` and the queue. */
  input(data: Buffer): void;
  resized(cols: number, rows: number): void;
  taskDelivered(index: number): void;
  viewerAttached(viewerId: number, readOnly: boolean): void;
  viewerLeft(viewerId: number): void;
  /** The agent has ended: resolves once the recording is on the disk (or has failed). */
  ended(exit: { code: number | null; signal: string | null }): Promise<void>;
  /** Resolves once what was recorded so far is on the disk. */
  written(): Promise<void>;
}

/** A session that is not recorded. */
export const NOT_RECORDING: RecordingSink = {
  output: () => {},
  input: () => {},
  resized: () => {},
  taskDelivered: () => {},
  viewerAttached: () => {},
  viewerLeft: () => {},
  ended: () => Promise.resolve(),
  written: () => Promise.resolve(),
};

export interface RecorderOptions {
  id: string;
  dir: string;
  command: string[];
  cols: number;
  rows: number;
  settings: RecordingSettings;
}

export function startRecording(o: RecorderOptions, host: RotationHost): RecordingSink {
  if (!o.settings.enabled) return NOT_RECORDING;
  log(`recording to ${o.dir} (${o.settings.parts} parts of ${o.settings.partBytes} bytes${o.settings.input ? ', input too' : ''})`);
  return new Recorder(o, host);
}

class Recorder implements RecordingSink {
  private readonly writer: BackgroundWriter;
  private readonly rotation: Rotation;
  private readonly out = new Utf8Stream();
  private readonly typed = new Utf8Stream();
  private readonly recordInput: boolean;
  cols: number;
  rows: number;
  /** Output not recorded since the queue was last full, in bytes. */
  private dropped = 0;
  private readonly attached = new Set<number>();
  private done = false;

  constructor(o: RecorderOptions, host: RotationHost) {
    this.cols = o.cols;
    this.rows = o.rows;
    this.recordInput = o.settings.input;
    this.writer = new BackgroundWriter((err, path) => log(`recording stopped: ${describeFsError(err)} writing ${path}; the agent runs on unrecorded`));
    const env: Record<string, string> = { TERM: 'xterm-256color' };
    if (process.env.SHELL) env.SHELL = process.env.SHELL;
    this.rotation = new Rotation(
      o.dir,
      o.settings.partBytes,
      o.settings.parts,
      { id: o.id, command: shellWords(o.command), env, input: o.settings.input },
      this.writer,
      host,
      o.cols,
      o.rows,
    );
  }

  private get off(): boolean {
    return this.done || this.writer.stopped;
  }

  /**
   * Whether there is room in the queue. Once full, nothing is taken until half of it
   * has drained (one marker per gap, not one per chunk).
   */
  private room(bytes: number): boolean {
    const limit = this.dropped > 0 ? Recording.QueueBytes / 2 : Recording.QueueBytes;
    if (this.writer.queued < limit) return true;
    this.dropped += bytes;
    return false;
  }

  /** `ascii`: the data is known to be ASCII (so is its JSON, copied as it is). */
  private event(code: 'o' | 'i' | 'r' | 'm', data: string, ascii = false): void {
    if (this.dropped > 0) {
      const n = this.dropped;
      this.dropped = 0;
      this.rotation.append('m', `not recorded: ${n} bytes of output (the disk did not keep up)`, true, this);
    }
    this.rotation.append(code, data, ascii, this);
  }

  output(data: Buffer): void {
    if (this.off) return;
    if (!this.room(data.length)) return this.out.reset();
    const text = this.out.decode(data);
    if (text !== '') this.event('o', text, this.out.ascii);
  }

  input(data: Buffer): void {
    if (!this.recordInput || this.off || !this.room(0)) return;
    const text = this.typed.decode(data);
    if (text !== '') this.event('i', text);
  }

  resized(cols: number, rows: number): void {
    if (this.off || (cols === this.cols && rows === this.rows)) return;
    this.cols = cols;
    this.rows = rows;
    this.event('r', resizeData(cols, rows));
  }

  taskDelivered(index: number): void {
    if (!this.off) this.event('m', `task ${index} delivered`);
  }

  viewerAttached(viewerId: number, readOnly: boolean): void {
    if (this.off) return;
    this.attached.add(viewerId);
    this.event('m', `viewer ${viewerId} attached${readOnly ? ' read-only' : ''}`);
  }

  viewerLeft(viewerId: number): void {
    if (this.off || !this.attached.delete(viewerId)) return;
    this.event('m', `viewer ${viewerId} detached`);
  }

  written(): Promise<void> {
    return this.writer.idle();
  }

  async ended(exit: { code: number | null; signal: string | null }): Promise<void> {
    if (!this.off) {
      const rest = this.out.end();
      if (rest !== '') this.event('o', rest);
      this.event('m', exitMarker(exit.code, exit.signal));
    }
    this.done = true;
    this.rotation.end();
    await this.writer.close();
  }
}

/** The command as a shell would show it (the header's `command` is one string). */
function shellWords(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
