import type { Terminal } from '@xterm/headless';
import { LINK_CLOSE, charsetState, designator, linkOpenOf, sgrOf } from './pen';
import {
  cellAttrs,
  cursorHidden,
  hasExtended,
  mouseEncoding,
  pen,
  savedCursor as savedCursorOf,
  savedPen,
  scrollRegion,
  tabStops as tabStopsOf,
} from './xterm-internals';

// The terminal state that @xterm/addon-serialize does not write (checked by round trip,
// see shared/lessons.md, test/e2e/pty-replay.test.ts and test/unit/serialize-roundtrip.test.ts):
// scroll region, hidden cursor, cursor style, mouse encoding, title, cursor colour, DECKPAM,
// tab stops, what DECSC saved (position, attributes, charset), a pending wrap, the pen,
// the character sets and the link being written. Appended after the serialized screen so
// a replay is exact.
//
// Scroll region, hidden cursor, mouse encoding, tab stops, the saved cursor, the pen and
// the charsets are read from xterm's core (xterm-internals.ts) because xterm keeps them
// right through resets and resizes.

const MOUSE_ENCODING: Record<string, string> = {
  SGR: '\x1b[?1006h',
  SGR_PIXELS: '\x1b[?1016h',
  URXVT: '\x1b[?1015h',
  UTF8: '\x1b[?1005h',
};

export class ModeTracker {
  private cursorStyle: number | null = null;
  private title = '';
  private cursorColor: string | null = null;

  constructor(private readonly term: Terminal) {
    const parser = term.parser;
    // DECSCUSR: CSI Ps SP q. Returning false lets xterm handle the sequence as well.
    parser.registerCsiHandler({ intermediates: ' ', final: 'q' }, (params) => {
      const p = params[0];
      this.cursorStyle = typeof p === 'number' && p > 0 ? p : null;
      return false;
    });
    // RIS: a full reset clears what we track too.
    parser.registerEscHandler({ final: 'c' }, () => {
      this.cursorStyle = null;
      this.title = '';
      this.cursorColor = null;
      return false;
    });
    // DECSTR soft reset: cursor style back to default.
    parser.registerCsiHandler({ intermediates: '!', final: 'p' }, () => {
      this.cursorStyle = null;
      return false;
    });
    term.onTitleChange((t) => {
      this.title = t;
    });
    parser.registerOscHandler(12, (data) => {
      this.cursorColor = data === '?' ? this.cursorColor : data;
      return false;
    });
    parser.registerOscHandler(112, () => {
      this.cursorColor = null;
      return false;
    });
  }

  get windowTitle(): string {
    return this.title;
  }

  /** Tab stops when they differ from every 8 columns: clear all, then set each (moves the cursor). */
  private tabStops(row: number): string {
    const all = tabStopsOf(this.term);
    if (all === null) return '';
    const cols = this.term.cols;
    const stops = all.filter((x) => x > 0 && x < cols);
    const usual = stops.length === Math.ceil(cols / 8) - 1 && stops.every((x, i) => x === (i + 1) * 8);
    if (usual) return '';
    return `\x1b[3g${stops.map((x) => `\x1b[${row};${x + 1}H\x1bH`).join('')}`;
  }

  /**
   * What DECSC saved, redone: the cursor put where it was saved, the saved attributes and
   * charset in force, then DECSC. Nothing when DECSC was never used (all at their defaults).
   */
  private savedState(cup: (row: number, col: number) => string): string {
    const pos = savedCursorOf(this.term);
    const saved = savedPen(this.term);
    if (!pos || !saved) return '';
    const row = Math.max(0, pos.y - pos.ybase);
    const p = saved.pen;
    if (pos.x === 0 && row === 0 && p.fg === 0 && p.bg === 0 && saved.charset === null) return '';
    // A link open at DECSC time shows as a bit xterm keeps in the saved pen: a link opened
    // for the DECSC alone reproduces it.
    const [open, close] = hasExtended(p) ? ['\x1b]8;;about:blank\x1b\\', LINK_CLOSE] : ['', ''];
    const place = this.place(Math.min(row, this.term.rows - 1), Math.min(pos.x, this.term.cols), cup);
    return `${place}${sgrOf(p)}\x1b(${designator(saved.charset)}\x0f${open}\x1b7${close}\x1b(B`;
  }

  /**
   * The cursor to (row, col); col === cols is a wrap pending (the next character goes to
   * the next line), which only printing the row's last cell again reproduces.
   */
  private place(row: number, col: number, cup: (row: number, col: number) => string): string {
    if (col < this.term.cols) return cup(row, col);
    const buf = this.term.buffer.active;
    const line = buf.getLine(buf.baseY + row);
    let x = this.term.cols - 1;
    let cell = line?.getCell(x);
    if (cell && cell.getWidth() === 0 && x > 0) cell = line?.getCell(--x);
    if (!cell) return cup(row, this.term.cols - 1);
    const attrs = cellAttrs(cell);
    const link = linkOpenOf(this.term, attrs);
    return `${cup(row, x)}${sgrOf(attrs)}${link}${cell.getChars() || ' '}${link ? LINK_CLOSE : ''}`;
  }

  /** Sequences to append after `serialize()`; they leave the cursor where it was. */
  tail(): string {
    let out = '';
    const buf = this.term.buffer.active;
    const region = scrollRegion(this.term);
    const top = region?.top ?? 0;
    const origin = this.term.modes.originMode;
    const hasRegion = region !== null;
    if (region && (region.top !== 0 || region.bottom !== this.term.rows - 1)) {
      out += `\x1b[${region.top + 1};${region.bottom + 1}r`; // DECSTBM homes the cursor: the CUP below puts it back
    }
    // The cursor by absolute position: serialize() moves it relatively from the end of the
    // text, which lands wrong if the user's terminal measures a character differently.
    if (hasRegion || !origin) {
      const rowOf = (y: number) => y + 1 - (origin ? top : 0);
      out += this.tabStops(rowOf(buf.cursorY));
      // Cells are printed again below (a pending wrap): in ASCII, as they are stored.
      out += '\x1b(B\x0f';
      // DECSC also saves origin mode, which xterm does not record: saved with origin mode
      // off, the usual case.
      const saved = this.savedState((row, col) => `\x1b[${row + 1};${col + 1}H`);
      if (saved) out += `${origin ? '\x1b[?6l' : ''}${saved}${origin ? '\x1b[?6h' : ''}`;
      out += this.place(buf.cursorY, Math.min(buf.cursorX, this.term.cols), (row, col) => `\x1b[${rowOf(row)};${col + 1}H`);
    }
    // Then the pen, the charsets and the link as they are now: nothing printable follows.
    const p = pen(this.term);
    if (p) out += sgrOf(p) + linkOpenOf(this.term, p);
    out += charsetState(this.term);
    // serialize() writes DECNKM (?66h), which tmux and many terminals ignore: DECKPAM too.
    if (this.term.modes.applicationKeypadMode) out += '\x1b=';
    const enc = mouseEncoding(this.term);
    if (enc !== null && MOUSE_ENCODING[enc]) out += MOUSE_ENCODING[enc];
    if (this.cursorStyle !== null) out += `\x1b[${this.cursorStyle} q`;
    if (this.cursorColor !== null) out += `\x1b]12;${this.cursorColor}\x07`;
    if (this.title) out += `\x1b]2;${this.title}\x07`;
    if (cursorHidden(this.term)) out += '\x1b[?25l';
    return out;
  }
}
