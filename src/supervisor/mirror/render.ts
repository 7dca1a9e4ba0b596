import type { IBuffer, IBufferCell } from '@xterm/headless';

// Lines with colours and attributes for `capture --ansi` (like `tmux capture-pane -e`):
// each line starts from default attributes and ends with a reset.

/**
 * `s`, stored flat. A string built by appending cell after cell (ours below, xterm's
 * translateToString) is a tree of one node per append until something reads it: ~3 KB for
 * a 120-column line, ~28 MB for the 10 000 lines of a final screen or a scrollback
 * capture, held until the end and so promoted to the old generation. Reading a character
 * makes V8 flatten it; the tree is then garbage at once.
 */
export function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

function colorParams(cell: IBufferCell, fg: boolean): string {
  if (fg ? cell.isFgDefault() : cell.isBgDefault()) return fg ? '39' : '49';
  const c = fg ? cell.getFgColor() : cell.getBgColor();
  if (fg ? cell.isFgRGB() : cell.isBgRGB()) return `${fg ? 38 : 48};2;${(c >> 16) & 255};${(c >> 8) & 255};${c & 255}`;
  if (c < 8) return String((fg ? 30 : 40) + c);
  if (c < 16) return String((fg ? 90 : 100) + c - 8);
  return `${fg ? 38 : 48};5;${c}`;
}

function sgrOf(cell: IBufferCell): string {
  const p = ['0'];
  if (cell.isBold()) p.push('1');
  if (cell.isDim()) p.push('2');
  if (cell.isItalic()) p.push('3');
  if (cell.isUnderline()) p.push('4');
  if (cell.isBlink()) p.push('5');
  if (cell.isInverse()) p.push('7');
  if (cell.isInvisible()) p.push('8');
  if (cell.isStrikethrough()) p.push('9');
  const fg = colorParams(cell, true);
  const bg = colorParams(cell, false);
  if (fg !== '39') p.push(fg);
  if (bg !== '49') p.push(bg);
  return p.join(';');
}

export function renderAnsiLines(buf: IBuffer, start: number, end: number, cols: number): string[] {
  const out: string[] = [];
  let cell: IBufferCell | undefined;
  for (let y = start; y < end; y++) {
    const line = buf.getLine(y);
    if (!line) {
      out.push('');
      continue;
    }
    // Trailing default blanks are dropped, as in the plain capture.
    let last = -1;
    for (let x = 0; x < cols; x++) {
      cell = line.getCell(x, cell);
      if (!cell) break;
      const code = cell.getCode();
      if (code !== 0 && code !== 32) last = x;
      else if (!cell.isBgDefault() || cell.isInverse()) last = x;
    }
    let s = '';
    let cur = '0';
    for (let x = 0; x <= last; x++) {
      cell = line.getCell(x, cell);
      if (!cell) break;
      if (cell.getWidth() === 0) continue; // right half of a wide character
      // Most cells have no attributes at all (a final screen has 10 000 lines of them).
      const sgr = cell.isAttributeDefault() ? '0' : sgrOf(cell);
      if (sgr !== cur) {
        s += `\x1b[${sgr}m`;
        cur = sgr;
      }
      s += cell.getChars() || ' ';
    }
    if (cur !== '0') s += '\x1b[0m';
    out.push(flat(s));
  }
  return out;
}
