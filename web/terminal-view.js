import { Terminal } from '/vendor/xterm.mjs';
import { FitAddon } from '/vendor/addon-fit.mjs';
import { Unicode11Addon } from '/vendor/addon-unicode11.mjs';

// One agent's terminal in the page. It always has the agent's size (a read-only viewer
// never resizes the agent; the text shrinks to fit the width instead, down to a floor, then
// the box scrolls). Every character of `screen` and `o` data is acknowledged once xterm.js
// has parsed it (its write callback), not on receipt: that is what the server's flow
// control counts. Sizes are applied in order with the data (in a write callback), so a
// resize lands between the same two chunks as on the agent's side.

/** Font size when the agent fits, and the smallest it shrinks to before the box scrolls. */
const FONT_PX = 14;
const MIN_FONT_PX = 6;
/**
 * The supervisor keeps 10 000 lines of scrollback, at least: older ones leave in whole chunks
 * of 256 (README, limits), so a replay carries up to 255 lines more. The page keeps as many,
 * for an exact replay (with 10 000 it showed fewer lines than `capture --scrollback` after a flood).
 */
const SCROLLBACK = 10_000 + 256;

const MODIFIERS = new Set(['Shift', 'Control', 'Alt', 'Meta', 'CapsLock', 'AltGraph']);

export class TerminalView {
  /**
   * send(message) sends to the server; canWrite: the server runs with --write;
   * onTyping(bool) tells the page whether this browser holds the keyboard.
   */
  constructor(box, element, send) {
    this.box = box;
    this.send = send;
    this.canWrite = false;
    this.typing = false;
    this.wantTyping = false;
    this.fit = true;
    this.v = -1;
    this.shownV = -1;
    this.parsed = 0;
    this.epoch = 0;
    this.ackTimer = null;
    /** For tests: acknowledgements held back (a browser that cannot keep up), screens received. */
    this.holdAcks = false;
    this.screens = 0;
    this.sentCols = 0;
    this.sentRows = 0;
    this.onSize = () => {};
    this.term = new Terminal({ fontSize: FONT_PX, scrollback: SCROLLBACK, allowProposedApi: true, cursorBlink: false, fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace' });
    // The supervisor measures characters with Unicode 11's widths (emoji are wide): so must we.
    this.term.loadAddon(new Unicode11Addon());
    this.term.unicode.activeVersion = '11';
    this.fitAddon = new FitAddon();
    this.term.loadAddon(this.fitAddon);
    this.term.open(element);
    // Keys go to the agent only while this browser holds the keyboard; xterm's own answers
    // to the agent's queries are sent only then too (the supervisor answers otherwise).
    this.term.onData((d) => {
      if (this.wantTyping) this.send({ t: 'input', d });
    });
    // The first real key typed in the terminal takes the keyboard (with --write).
    this.term.attachCustomKeyEventHandler((ev) => {
      if (ev.type === 'keydown' && this.canWrite && !this.wantTyping && !MODIFIERS.has(ev.key)) this.takeKeyboard();
      return true;
    });
    element.addEventListener('paste', () => {
      if (this.canWrite && !this.wantTyping) this.takeKeyboard();
    }, true);
    new ResizeObserver(() => this.layout()).observe(box);
  }

  /** A new connection: its acknowledgements count from zero. */
  reset() {
    this.epoch++;
    this.parsed = 0;
    this.shownV = -1;
    this.typing = false;
    this.wantTyping = false;
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }

  /** Shows view `v` next (what arrives for an earlier one is acknowledged, not drawn). */
  open(v) {
    this.v = v;
    this.typing = false;
    this.wantTyping = false;
    this.term.reset();
    this.term.options.fontSize = FONT_PX;
  }

  screen(m) {
    if (m.v !== this.v) return this.skip(m.d.length);
    this.shownV = m.v;
    this.screens++;
    this.term.write('', () => this.applySize(m.cols, m.rows));
    // A full reset first: the screen brings its own scrollback, the old one must go.
    this.term.write('\x1bc');
    this.term.write(m.d, this.parsedCallback(m.d.length));
  }

  output(d) {
    if (this.shownV !== this.v) return this.skip(d.length);
    this.term.write(d, this.parsedCallback(d.length));
  }

  size(m) {
    if (m.v !== this.v) return;
    this.term.write('', () => this.applySize(m.cols, m.rows));
  }

  /** The server says whether this view is typed into. */
  setTyping(typing) {
    this.typing = typing;
    this.wantTyping = typing;
    this.layout();
  }

  takeKeyboard() {
    this.wantTyping = true;
    this.term.options.fontSize = FONT_PX;
    const d = this.fitAddon.proposeDimensions();
    const cols = Math.max(2, Math.min(1000, d && d.cols ? d.cols : this.term.cols));
    const rows = Math.max(2, Math.min(1000, d && d.rows ? d.rows : this.term.rows));
    this.sentCols = cols;
    this.sentRows = rows;
    this.send({ t: 'type', cols, rows });
    this.term.focus();
  }

  giveKeyboard() {
    this.wantTyping = false;
    this.send({ t: 'watch' });
  }

  setFit(fit) {
    this.fit = fit;
    this.layout();
  }

  /** The rows on screen as text, for tests and debugging. */
  lines() {
    const b = this.term.buffer.active;
    const out = [];
    for (let y = 0; y < this.term.rows; y++) out.push(b.getLine(b.viewportY + y)?.translateToString(true) ?? '');
    return out;
  }

  /** Every line, scrollback first. */
  allLines() {
    const b = this.term.buffer.active;
    const out = [];
    for (let y = 0; y < b.length; y++) out.push(b.getLine(y)?.translateToString(true) ?? '');
    return out;
  }

  skip(n) {
    // In order with the writes before it: acknowledgements count everything, drawn or not.
    this.term.write('', this.parsedCallback(n));
  }

  parsedCallback(n) {
    const epoch = this.epoch;
    return () => {
      if (epoch !== this.epoch) return;
      this.parsed += n;
      if (!this.ackTimer) this.ackTimer = setTimeout(() => this.ack(), 0);
    };
  }

  ack() {
    this.ackTimer = null;
    if (this.holdAcks) return;
    this.send({ t: 'ack', n: this.parsed });
  }

  applySize(cols, rows) {
    if (cols !== this.term.cols || rows !== this.term.rows) this.term.resize(cols, rows);
    this.onSize(cols, rows);
    this.layout();
  }

  /** Typing: the box's own size, sent as ours. Watching: the agent's size, the font shrunk to fit. */
  layout(round = 0) {
    if (this.wantTyping) {
      if (this.term.options.fontSize !== FONT_PX) this.term.options.fontSize = FONT_PX;
      const d = this.fitAddon.proposeDimensions();
      if (this.typing && d && d.cols && d.rows && (d.cols !== this.sentCols || d.rows !== this.sentRows)) {
        this.sentCols = d.cols;
        this.sentRows = d.rows;
        this.send({ t: 'resize', cols: d.cols, rows: d.rows });
      }
      return;
    }
    let px = FONT_PX;
    if (this.fit) {
      const screen = this.term.element && this.term.element.querySelector('.xterm-screen');
      const width = screen ? screen.getBoundingClientRect().width : 0;
      const room = this.box.clientWidth - 8;
      if (width > 0 && room > 0) px = Math.max(MIN_FONT_PX, Math.min(FONT_PX, Math.floor((this.term.options.fontSize * room * 2) / width) / 2));
    }
    if (px !== this.term.options.fontSize) {
      this.term.options.fontSize = px;
      // Measured again once xterm has drawn at the new size (glyph widths round: twice is enough).
      if (round < 2) requestAnimationFrame(() => this.layout(round + 1));
    }
  }
}
