import { type CastHeader, type CastItem, SNAPSHOT_MARKER, castTime, decodeResize, encodeEvent, encodeHeader, partStartMs, resizeData } from './asciicast';

// A session's parts joined into one asciicast file (`agent record`): one header (the
// first part's, with the duration), times running on across parts by the wall clock
// (the gaps between parts are real), an `r` event where a part begins at another size,
// and each later part's opening screen left out (it repeats what the part before
// printed). Cat-ing the parts instead crashes asciinema at the second header.

export class CastJoiner {
  private first: CastHeader | null = null;
  private parts = 0;
  /** Seconds from the first part's start to the current part's. */
  private offset = 0;
  private last = 0;
  private cols = 0;
  private rows = 0;
  private skipScreen = false;
  private readonly lines: string[] = [];

  add(item: CastItem): void {
    if (item.kind === 'header') {
      const h = item.header;
      this.parts++;
      this.skipScreen = false;
      if (!this.first) {
        this.first = h;
      } else {
        this.offset = Math.max(0, (partStartMs(h) - partStartMs(this.first)) / 1000);
        if (h.width !== this.cols || h.height !== this.rows) this.push(this.offset, 'r', resizeData(h.width, h.height));
      }
      this.cols = h.width;
      this.rows = h.height;
      return;
    }
    if (!this.first) return;
    const e = item.event;
    if (this.parts > 1) {
      if (e.code === 'm' && e.data === SNAPSHOT_MARKER) {
        this.skipScreen = true;
        return;
      }
      const screen = this.skipScreen && e.code === 'o';
      this.skipScreen = false;
      if (screen) return;
    }
    const size = e.code === 'r' ? decodeResize(e.data) : null;
    if (size) {
      this.cols = size.cols;
      this.rows = size.rows;
    }
    this.push(e.time + this.offset, e.code, e.data);
  }

  private push(time: number, code: 'o' | 'i' | 'r' | 'm', data: string): void {
    // Never backwards: a player would take a negative gap as none, but a clock may step.
    this.last = Math.max(this.last, castTime(time));
    this.lines.push(encodeEvent(this.last, code, data));
  }

  /** How many parts were joined. */
  get partCount(): number {
    return this.parts;
  }

  /** The whole file, or null when there was no part. */
  finish(): string | null {
    if (!this.first) return null;
    const header: CastHeader = { ...this.first, duration: this.last };
    delete header.x_symposium; // a part's numbers say nothing of the whole
    return [encodeHeader(header), ...this.lines].join('\n') + '\n';
  }
}
