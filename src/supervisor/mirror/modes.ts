import type { Terminal } from '@xterm/headless';
import { cursorHidden, mouseEncoding, savedCursor as savedCursorOf, scrollRegion, tabStops as tabStopsOf } from './xterm-internals';

// The terminal state that @xterm/addon-serialize does not write (checked by round trip,
// see shared/lessons.md and test/pty-replay.test.ts): scroll region, hidden cursor, cursor
// style, mouse encoding, title, cursor colour, DECKPAM, tab stops, the saved cursor
// (DECSC) position. Appended after the serialized screen so a replay is exact.
//
// Scroll region, hidden cursor, mouse encoding, tab stops and the saved cursor are read
// from xterm's core (xterm-internals.ts) because xterm keeps them right through resets
// and resizes.

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

  /** Where DECSC saved the cursor (on the visible screen), or null if never moved from home. */
  private savedCursor(): { x: number; y: number } | null {
    const saved = savedCursorOf(this.term);
    if (saved === null) return null;
    const { x, y, ybase } = saved;
    const row = Math.max(0, y - ybase);
    if (x === 0 && row === 0) return null;
    return { x: Math.min(x, this.term.cols - 1), y: Math.min(row, this.term.rows - 1) };
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
    // A cursor past the last column (a wrap pending) keeps serialize()'s placement, and
    // then nothing here may move the cursor.
    if (buf.cursorX < this.term.cols && (hasRegion || !origin)) {
      const rowOf = (y: number) => y + 1 - (origin ? top : 0);
      out += this.tabStops(rowOf(buf.cursorY));
      // DECSC's position, for a later DECRC. DECSC also saves origin mode, which xterm does
      // not record: saved with origin mode off, the usual case. (The saved attributes are
      // the current ones, not those of the original save.)
      const saved = this.savedCursor();
      if (saved) out += `${origin ? '\x1b[?6l' : ''}\x1b[${saved.y + 1};${saved.x + 1}H\x1b7${origin ? '\x1b[?6h' : ''}`;
      out += `\x1b[${rowOf(buf.cursorY)};${buf.cursorX + 1}H`;
    }
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
