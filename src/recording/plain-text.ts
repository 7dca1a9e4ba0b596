import { charWidth } from './char-width';

// What an agent printed, as plain lines (`agent logs`): the output is played on a small
// model of a terminal that keeps text only, and a line goes into the log when it leaves
// the top of the window, as it would go into a terminal's scrollback, or at the end.
//
// What it does, and why:
// - Escape sequences are removed: CSI (colours and the rest), OSC, DCS, SOS/PM/APC,
//   character set designations.
// - Carriage return, backspace, tab and the cursor movements (up, down, left, right,
//   absolute, save and restore) move a cursor over the window, and text overwrites what
//   is under it: a progress bar leaves its last state, and a program that redraws a few
//   lines above the cursor (a spinner, a status block, an agent's input box) leaves only
//   what was there when the lines moved out of the window.
// - Erasing (EL, ED below or above the cursor, ECH, DCH, ICH, IL, DL) edits the window;
//   a line erased before it left the window is not in the log.
// - A long line wraps at the window's width, as it did on the agent's screen (programs
//   count rows that way when they move back up), and is logged as one line.
// - Clearing the whole screen (ED 2, `clear`), a reset, and entering or leaving the
//   alternate screen start a new page: what was on the window goes into the log first,
//   so nothing printed is lost. Full-screen programs (editors, `top`, agents that repaint
//   the whole screen) redraw in place; their log is each page as it was left.
// - Not done: scroll regions (DECSTBM: the whole window scrolls), double width or height
//   lines, the DEC line-drawing character set (its letters stay letters).
//
// `settle()` serves `--follow`: once output pauses, lines above the cursor go into the
// log at once instead of waiting to leave the window; a line that changes after that (a
// redraw above the cursor) is logged again in its new state.

export interface LogLine {
  /** When the line was last written to (ms since the epoch). */
  at: number;
  text: string;
}

interface Row {
  /** One entry per column up to the last written: a character with its combining marks, '' behind a wide one. */
  cells: string[];
  /** Continues the row above: one line longer than the window. */
  wrapped: boolean;
  /** Written to, or left with a line feed (a blank line printed is a line). */
  touched: boolean;
  at: number;
  /** Its text when settle() logged it. */
  printed: string | null;
}

type State = 'ground' | 'esc' | 'escInter' | 'csi' | 'string' | 'stringEsc';

/** The CSI sequences that move the cursor or change the text (the rest are skipped unread). */
const CSI_FINALS: ReadonlySet<string> = new Set('ABeCaDEFG`HfdJKXP@LMSTsuhl'.split(''));

/** Longer control sequences are not ours to read: skipped to their end. */
const MAX_CSI = 64;

function blankRow(): Row {
  return { cells: [], wrapped: false, touched: false, at: 0, printed: null };
}

function rowText(r: Row): string {
  return r.cells.join('');
}

/** Blanks up to column x (exclusive): a row has no holes. */
function fillTo(r: Row, x: number): void {
  while (r.cells.length < x) r.cells.push(' ');
}

function isBlank(r: Row): boolean {
  return r.cells.every((c) => c === ' ' || c === '');
}

export class PlainTextRenderer {
  private rows: Row[] = [];
  private x = 0;
  private y = 0;
  private saved = { x: 0, y: 0 };
  private autoWrap = true;
  private state: State = 'ground';
  private csi = '';
  /** Rows already out of the window whose line goes on in the window (it wrapped). */
  private leaving: Row[] = [];
  private now = 0;

  constructor(
    private cols: number,
    private height: number,
    private readonly emit: (line: LogLine) => void,
  ) {
    for (let i = 0; i < height; i++) this.rows.push(blankRow());
  }

  /** Output of the agent at `at` (ms since the epoch). Sequences may be split between calls. */
  write(text: string, at: number): void {
    this.now = at;
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case 'ground':
          if (c >= 0x20 && c < 0x7f) {
            let j = i + 1;
            while (j < n) {
              const d = text.charCodeAt(j);
              if (d < 0x20 || d >= 0x7f) break;
              j++;
            }
            this.printAscii(text, i, j);
            i = j;
            continue;
          }
          if (c >= 0xa0) {
            const cp = text.codePointAt(i)!;
            const len = cp > 0xffff ? 2 : 1;
            this.print(text.slice(i, i + len), charWidth(cp));
            i += len;
            continue;
          }
          this.control(c);
          break;
        case 'esc':
          this.escape(c);
          break;
        case 'escInter':
          // A character set designation and the like: intermediates, then one final byte.
          if (c >= 0x30 && c <= 0x7e) this.state = 'ground';
          else if (c < 0x20 || c > 0x2f) this.state = 'ground';
          break;
        case 'csi':
          if (c >= 0x20 && c <= 0x3f) {
            // Parameters and intermediates, taken in one piece.
            let j = i + 1;
            while (j < n) {
              const d = text.charCodeAt(j);
              if (d < 0x20 || d > 0x3f) break;
              j++;
            }
            if (this.csi.length <= MAX_CSI) this.csi += text.slice(i, j);
            i = j;
            continue;
          }
          if (c >= 0x40 && c <= 0x7e) {
            this.state = 'ground';
            if (this.csi.length <= MAX_CSI) this.csiDispatch(this.csi, text[i]!);
          } else if (c === 0x1b) {
            this.state = 'esc';
          } else if (c < 0x20) {
            this.control(c); // C0 controls act inside a sequence
          } else {
            this.state = 'ground'; // not a CSI character: the sequence is broken
          }
          break;
        case 'string':
          // OSC ends with BEL or ST; DCS, SOS, PM and APC with ST.
          if (c === 0x07 || c === 0x9c) this.state = 'ground';
          else if (c === 0x1b) this.state = 'stringEsc';
          break;
        case 'stringEsc':
          if (c === 0x5c) this.state = 'ground';
          else {
            this.state = 'esc';
            continue; // that ESC began something else: read this character again
          }
          break;
      }
      i++;
    }
  }

  /** The window's size changed (an `r` event). */
  resize(cols: number, rows: number, at: number): void {
    this.now = at;
    this.cols = cols;
    while (this.height > rows) {
      // As a terminal does: blank rows below the cursor go first, then rows leave the top.
      const last = this.rows[this.height - 1]!;
      if (this.y < this.height - 1 && !last.touched && isBlank(last)) this.rows.pop();
      else {
        this.leave(this.rows.shift()!);
        this.y = Math.max(0, this.y - 1);
      }
      this.height--;
    }
    while (this.height < rows) {
      this.rows.push(blankRow());
      this.height++;
    }
    this.x = Math.min(this.x, cols);
  }

  /** For --follow, once output pauses: the lines above the cursor go into the log now. */
  settle(): void {
    // The cursor's own line (with the rows it wrapped from) is not done yet.
    let limit = this.y;
    while (limit > 0 && this.rows[limit]!.wrapped) limit--;
    if (limit === 0 && this.rows[0]!.wrapped) return;
    const rows = [...this.leaving, ...this.rows.slice(0, limit)];
    this.leaving = [];
    for (const g of groups(rows)) {
      this.emitLine(g);
      for (const r of g) r.printed = rowText(r);
    }
  }

  /** The end of the output: everything left in the window goes into the log. */
  end(): void {
    this.page();
  }

  // ---- printing -----------------------------------------------------------------

  private printAscii(text: string, from: number, to: number): void {
    let row = this.rows[this.y]!;
    if (row.cells.length < this.x) fillTo(row, this.x);
    for (let k = from; k < to; k++) {
      if (this.x >= this.cols) {
        if (this.autoWrap) row = this.wrap();
        else this.x = this.cols - 1;
      }
      row.cells[this.x++] = text[k]!;
    }
    row.touched = true;
    row.at = this.now;
  }

  private print(ch: string, width: 0 | 1 | 2): void {
    let row = this.rows[this.y]!;
    if (width === 0) {
      // A combining mark joins the character before it.
      const at = Math.max(0, Math.min(this.x, this.cols) - 1);
      fillTo(row, at + 1);
      row.cells[at] += ch;
      return;
    }
    if (this.x + width > this.cols) {
      if (this.autoWrap) row = this.wrap();
      else this.x = Math.max(0, this.cols - width);
    }
    fillTo(row, this.x);
    row.cells[this.x] = ch;
    if (width === 2) row.cells[this.x + 1] = '';
    this.x += width;
    row.touched = true;
    row.at = this.now;
  }

  /** The line goes on on the next row. */
  private wrap(): Row {
    this.x = 0;
    this.lineFeed();
    const row = this.rows[this.y]!;
    row.wrapped = true;
    row.touched = true;
    row.at = this.now;
    return row;
  }

  private lineFeed(): void {
    this.rows[this.y]!.touched = true;
    if (this.x >= this.cols) this.x = this.cols - 1;
    if (this.y === this.height - 1) this.scrollUp();
    else this.y++;
  }

  private scrollUp(): void {
    const top = this.rows.shift()!;
    // A row logged at once is used again as the new blank row (a flood scrolls a row per line).
    if (this.leave(top)) {
      top.cells.length = 0;
      top.wrapped = false;
      top.touched = false;
      top.printed = null;
      this.rows.push(top);
    } else this.rows.push(blankRow());
  }

  /** A row leaves the top of the window: its line is logged once it is whole. True when done with the row. */
  private leave(row: Row): boolean {
    if (!row.wrapped) this.flushLeaving();
    const continues = this.rows[0]?.wrapped === true;
    if (this.leaving.length === 0 && !continues) {
      this.emitLine(row);
      return true;
    }
    this.leaving.push(row);
    if (!continues) this.flushLeaving();
    return false;
  }

  private flushLeaving(): void {
    if (this.leaving.length === 0) return;
    this.emitLine(this.leaving);
    this.leaving = [];
  }

  /** Logs one line (its rows), unless it is untouched, or unchanged (or erased) since settle() logged it. */
  private emitLine(rows: Row[] | Row): void {
    if (!Array.isArray(rows) || rows.length === 1) {
      // The common case, without the arrays of the general one.
      const r = Array.isArray(rows) ? rows[0]! : rows;
      if (!r.touched) return;
      const t = rowText(r);
      if (r.printed !== null && (r.printed === t || t.trim() === '')) return;
      this.emit({ at: r.at, text: t.trimEnd() });
      return;
    }
    if (!rows.some((r) => r.touched)) return;
    const texts = rows.map(rowText);
    const printed = rows.some((r) => r.printed !== null);
    if (printed && rows.every((r, i) => r.printed === texts[i])) return;
    const text = texts.join('').trimEnd();
    if (printed && text === '') return;
    this.emit({ at: Math.max(...rows.map((r) => r.at)), text });
  }

  /** A new page: the window into the log (trailing blank lines aside), then a blank window. */
  private page(): void {
    const rows = [...this.leaving, ...this.rows];
    this.leaving = [];
    const lines = groups(rows).filter((g) => g.some((r) => r.touched));
    while (lines.length > 0 && lines[lines.length - 1]!.every(isBlank)) lines.pop();
    for (const g of lines) this.emitLine(g);
    this.rows = [];
    for (let i = 0; i < this.height; i++) this.rows.push(blankRow());
  }

  // ---- controls and sequences -----------------------------------------------------

  private control(c: number): void {
    switch (c) {
      case 0x0d:
        this.x = 0;
        break;
      case 0x0a:
      case 0x0b:
      case 0x0c:
        this.lineFeed();
        break;
      case 0x08:
        this.x = Math.max(0, Math.min(this.x, this.cols - 1) - 1);
        break;
      case 0x09:
        this.x = Math.min(this.cols - 1, (Math.floor(Math.min(this.x, this.cols - 1) / 8) + 1) * 8);
        break;
      case 0x1b:
        this.state = 'esc';
        break;
      case 0x9b:
        this.csi = '';
        this.state = 'csi';
        break;
      case 0x90:
      case 0x98:
      case 0x9d:
      case 0x9e:
      case 0x9f:
        this.state = 'string';
        break;
      default:
      // BEL, NUL, DEL, other C0 and C1 controls: nothing to print.
    }
  }

  private escape(c: number): void {
    this.state = 'ground';
    switch (c) {
      case 0x5b: // [
        this.csi = '';
        this.state = 'csi';
        return;
      case 0x5d: // ]
      case 0x50: // P
      case 0x58: // X
      case 0x5e: // ^
      case 0x5f: // _
        this.state = 'string';
        return;
      case 0x37: // 7: save the cursor
        this.saved = { x: this.x, y: this.y };
        return;
      case 0x38: // 8: restore it
        this.x = Math.min(this.saved.x, this.cols);
        this.y = Math.min(this.saved.y, this.height - 1);
        return;
      case 0x44: // D: index
        this.lineFeed();
        return;
      case 0x45: // E: next line
        this.x = 0;
        this.lineFeed();
        return;
      case 0x4d: // M: reverse index
        if (this.y > 0) this.y--;
        else this.insertRows(0, 1);
        return;
      case 0x63: // c: reset
        this.page();
        this.x = 0;
        this.y = 0;
        this.autoWrap = true;
        return;
      case 0x1b:
        this.state = 'esc';
        return;
      default:
        // ( ) * + - . / # % and space take one more byte (character sets and the like).
        if (c >= 0x20 && c <= 0x2f) this.state = 'escInter';
    }
  }

  private csiDispatch(seq: string, final: string): void {
    // Colours (SGR), the commonest by far, and everything else that moves nothing.
    if (!CSI_FINALS.has(final)) return;
    let prefix = '';
    let body = seq;
    if (body !== '' && '<=>?'.includes(body[0]!)) {
      prefix = body[0]!;
      body = body.slice(1);
    }
    if (/[\x20-\x2f]/.test(body)) return; // intermediates: not a movement or an erase
    const params = body === '' ? [] : body.split(';').map((p) => {
      const n = parseInt(p.split(':')[0]!, 10);
      return Number.isNaN(n) ? 0 : n;
    });
    const p0 = params[0] ?? 0;
    const n = Math.max(1, p0);
    if (prefix === '?') {
      if (final === 'h' || final === 'l') this.privateMode(params, final === 'h');
      return;
    }
    if (prefix !== '') return;
    const col = () => Math.min(this.x, this.cols - 1);
    switch (final) {
      case 'A':
        this.x = col();
        this.y = Math.max(0, this.y - n);
        break;
      case 'B':
      case 'e':
        this.x = col();
        this.y = Math.min(this.height - 1, this.y + n);
        break;
      case 'C':
      case 'a':
        this.x = Math.min(this.cols - 1, col() + n);
        break;
      case 'D':
        this.x = Math.max(0, col() - n);
        break;
      case 'E':
        this.x = 0;
        this.y = Math.min(this.height - 1, this.y + n);
        break;
      case 'F':
        this.x = 0;
        this.y = Math.max(0, this.y - n);
        break;
      case 'G':
      case '`':
        this.x = Math.min(this.cols - 1, n - 1);
        break;
      case 'H':
      case 'f':
        this.y = Math.min(this.height - 1, n - 1);
        this.x = Math.min(this.cols - 1, Math.max(1, params[1] ?? 1) - 1);
        break;
      case 'd':
        this.y = Math.min(this.height - 1, n - 1);
        this.x = col();
        break;
      case 'J':
        this.eraseDisplay(p0);
        break;
      case 'K':
        this.eraseLine(this.rows[this.y]!, p0);
        break;
      case 'X': {
        const row = this.rows[this.y]!;
        for (let k = col(); k < Math.min(row.cells.length, col() + n); k++) row.cells[k] = ' ';
        this.erased(row);
        break;
      }
      case 'P': {
        const row = this.rows[this.y]!;
        row.cells.splice(col(), n);
        this.erased(row);
        break;
      }
      case '@': {
        const row = this.rows[this.y]!;
        if (col() < row.cells.length) {
          row.cells.splice(col(), 0, ...new Array<string>(Math.min(n, this.cols)).fill(' '));
          if (row.cells.length > this.cols) row.cells.length = this.cols;
        }
        break;
      }
      case 'L':
        this.insertRows(this.y, n);
        break;
      case 'M':
        this.rows.splice(this.y, Math.min(n, this.height - this.y));
        while (this.rows.length < this.height) this.rows.push(blankRow());
        break;
      case 'S':
        for (let k = 0; k < Math.min(n, this.height); k++) this.scrollUp();
        break;
      case 'T':
        this.insertRows(0, n);
        break;
      case 's':
        if (params.length === 0) this.saved = { x: this.x, y: this.y };
        break;
      case 'u':
        this.x = Math.min(this.saved.x, this.cols);
        this.y = Math.min(this.saved.y, this.height - 1);
        break;
      default:
      // SGR and everything else: no effect on the text.
    }
  }

  private privateMode(params: number[], set: boolean): void {
    for (const p of params) {
      if (p === 7) this.autoWrap = set;
      if (p === 1049 || p === 1047 || p === 47) {
        // The alternate screen: a page of its own, and the cursor back where it was after.
        if (set && p === 1049) this.saved = { x: this.x, y: this.y };
        this.page();
        if (!set && p === 1049) {
          this.x = Math.min(this.saved.x, this.cols);
          this.y = Math.min(this.saved.y, this.height - 1);
        }
      }
    }
  }

  private eraseDisplay(mode: number): void {
    if (mode === 2) return this.page(); // a new page: what was shown is kept
    if (mode === 3) return; // the terminal's scrollback: not ours
    const row = this.rows[this.y]!;
    if (mode === 0) {
      this.eraseLine(row, 0);
      for (let k = this.y + 1; k < this.height; k++) this.rows[k] = blankRow();
    } else if (mode === 1) {
      this.eraseLine(row, 1);
      for (let k = 0; k < this.y; k++) this.rows[k] = blankRow();
    }
  }

  private eraseLine(row: Row, mode: number): void {
    const x = Math.min(this.x, this.cols - 1);
    if (mode === 0) {
      if (x < row.cells.length) row.cells.length = x;
    } else if (mode === 1) {
      fillTo(row, x + 1);
      for (let k = 0; k <= x; k++) row.cells[k] = ' ';
    } else if (mode === 2) {
      row.cells = [];
    }
    this.erased(row);
  }

  /** A row erased to nothing is as if it had never been written (a redraw clears before it paints). */
  private erased(row: Row): void {
    if (isBlank(row)) {
      row.touched = false;
      row.wrapped = false;
    }
  }

  /** Blank rows at `y`; as many rows at the bottom are lost (as on a screen). */
  private insertRows(y: number, n: number): void {
    const k = Math.min(n, this.height - y);
    this.rows.splice(y, 0, ...Array.from({ length: k }, blankRow));
    this.rows.length = this.height;
  }
}

/** Rows grouped into lines (a row that wraps goes with the row before it). */
function groups(rows: Row[]): Row[][] {
  const out: Row[][] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    if (r.wrapped && last) last.push(r);
    else out.push([r]);
  }
  return out;
}
