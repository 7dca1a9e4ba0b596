import type { Terminal } from '@xterm/headless';

// The terminal state that @xterm/addon-serialize does not write (checked by round trip,
// see shared/lessons.md): scroll region, hidden cursor, cursor style, mouse encoding,
// title, cursor colour. Appended after the serialized screen so a replay is exact.
//
// Scroll region, hidden cursor and mouse encoding are read from xterm's core (pinned
// version 6.0.0) because xterm keeps them right through resets and resizes; each read is
// guarded, so a changed internal only loses that one mode instead of the snapshot.

interface CoreView {
  buffer?: { scrollTop?: unknown; scrollBottom?: unknown; x?: unknown; y?: unknown };
  coreService?: { isCursorHidden?: unknown };
  coreMouseService?: { activeEncoding?: unknown };
}

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

  private core(): CoreView {
    return (this.term as unknown as { _core?: CoreView })._core ?? {};
  }

  cursorHidden(): boolean {
    return this.core().coreService?.isCursorHidden === true;
  }

  /** Sequences to append after `serialize()`; they leave the cursor where it was. */
  tail(): string {
    let out = '';
    const core = this.core();
    const buf = this.term.buffer.active;
    const top = core.buffer?.scrollTop;
    const bottom = core.buffer?.scrollBottom;
    const origin = this.term.modes.originMode;
    const hasRegion = typeof top === 'number' && typeof bottom === 'number';
    if (hasRegion && (top !== 0 || bottom !== this.term.rows - 1)) {
      out += `\x1b[${top + 1};${bottom + 1}r`; // DECSTBM homes the cursor: the CUP below puts it back
    }
    // The cursor by absolute position: serialize() moves it relatively from the end of the
    // text, which lands wrong if the user's terminal measures a character differently.
    // A cursor past the last column (a wrap pending) keeps serialize()'s placement.
    if (buf.cursorX < this.term.cols && (hasRegion || !origin)) {
      const row = buf.cursorY + 1 - (origin ? (top as number) : 0);
      out += `\x1b[${row};${buf.cursorX + 1}H`;
    }
    // serialize() writes DECNKM (?66h), which tmux and many terminals ignore: DECKPAM too.
    if (this.term.modes.applicationKeypadMode) out += '\x1b=';
    const enc = core.coreMouseService?.activeEncoding;
    if (typeof enc === 'string' && MOUSE_ENCODING[enc]) out += MOUSE_ENCODING[enc];
    if (this.cursorStyle !== null) out += `\x1b[${this.cursorStyle} q`;
    if (this.cursorColor !== null) out += `\x1b]12;${this.cursorColor}\x07`;
    if (this.title) out += `\x1b]2;${this.title}\x07`;
    if (this.cursorHidden()) out += '\x1b[?25l';
    return out;
  }
}
