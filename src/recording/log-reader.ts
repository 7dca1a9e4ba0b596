import { type CastItem, SNAPSHOT_MARKER, decodeResize, isExitMarker, partStartMs } from './asciicast';
import { type LogLine, PlainTextRenderer } from './plain-text';

// A recording read as a log (`agent logs`): what the agent printed, through the plain-text
// renderer, part after part, with the times of the events. The screen a later part
// begins with is left out (it repeats what the part before printed), except in the first
// part read: older parts are gone then, and the screen holds the last lines they printed
// and the start of the line the part goes on with. Typed input and markers are not
// output; a resize changes where lines wrap.

export class LogReader {
  private renderer: PlainTextRenderer | null = null;
  /** When the current part began (ms since the epoch). */
  private base = 0;
  private skipScreen = false;
  private parts = 0;
  /** The exit marker was read: nothing more will come. */
  ended = false;

  constructor(private readonly emit: (line: LogLine) => void) {}

  add(item: CastItem): void {
    if (item.kind === 'header') {
      const h = item.header;
      this.base = partStartMs(h);
      this.skipScreen = false;
      this.parts++;
      // A part after an exit marker is a later run's (`agent restart` keeps the recording).
      this.ended = false;
      if (this.renderer) this.renderer.resize(h.width, h.height, this.base);
      else this.renderer = new PlainTextRenderer(h.width, h.height, this.emit);
      return;
    }
    const r = this.renderer;
    if (!r) return;
    const e = item.event;
    const at = this.base + e.time * 1000;
    if (e.code === 'o') {
      if (this.skipScreen) this.skipScreen = false;
      else r.write(e.data, at);
      return;
    }
    this.skipScreen = false;
    if (e.code === 'm' && e.data === SNAPSHOT_MARKER) this.skipScreen = this.parts > 1;
    else if (isExitMarker(e)) this.ended = true;
    else if (e.code === 'r') {
      const size = decodeResize(e.data);
      if (size) r.resize(size.cols, size.rows, at);
    }
  }

  /** Output paused (`--follow`): the lines above the cursor now. */
  settle(): void {
    this.renderer?.settle();
  }

  /** No more output: the rest. */
  end(): void {
    this.renderer?.end();
  }
}
