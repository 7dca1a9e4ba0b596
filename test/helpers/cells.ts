import { Unicode11Addon } from '@xterm/addon-unicode11';
import { Terminal } from '@xterm/headless';
import {
  cellAttrs,
  charsets,
  linkData,
  linkId,
  pen,
  savedCursor,
  savedPen,
  underlineColor,
  underlineStyle,
} from '../../src/supervisor/mirror/xterm-internals';

// Every cell of a terminal with every attribute xterm keeps, and the state that decides
// what later text looks like (cursor, pen, DECSC, charsets): two terminals that agree on
// this picture show the same thing now and after the same next output.

/** A headless terminal like the mirror's (Unicode 11 widths). */
export function term(cols: number, rows: number, scrollback = 100): Terminal {
  const t = new Terminal({ cols, rows, scrollback, allowProposedApi: true, logLevel: 'off' });
  t.loadAddon(new Unicode11Addon());
  t.unicode.activeVersion = '11';
  return t;
}

export function write(t: Terminal, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => t.write(data, resolve));
}

const FIELDS = 'chars,width,fgMode,fg,bgMode,bg,bold,dim,italic,ulStyle,ulColor,blink,inverse,invisible,strike,overline,link'.split(',');

function linkOf(t: Terminal, id: number): string {
  const d = linkData(t, id);
  return d ? `${d.id ?? ''}|${d.uri}` : '';
}

function cellKey(t: Terminal, x: number, line: NonNullable<ReturnType<Terminal['buffer']['active']['getLine']>>): string {
  const c = line.getCell(x)!;
  const a = cellAttrs(c);
  return [
    c.getChars(), c.getWidth(), c.getFgColorMode() >>> 24, c.getFgColor(), c.getBgColorMode() >>> 24, c.getBgColor(),
    +!!c.isBold(), +!!c.isDim(), +!!c.isItalic(), underlineStyle(a), underlineColor(a),
    +!!c.isBlink(), +!!c.isInverse(), +!!c.isInvisible(), +!!c.isStrikethrough(), +!!c.isOverline(), linkOf(t, linkId(a)),
  ].join(',');
}

export type Picture = Array<[string, string]>;

/**
 * Every cell and the terminal's state. With `lastLines`, only the normal buffer's last
 * lines, numbered back from its end (-1 is the last): for histories kept to different lengths.
 */
export function picture(t: Terminal, lastLines?: number): Picture {
  const out: Picture = [];
  for (const [name, buf] of [['normal', t.buffer.normal], ['alternate', t.buffer.alternate]] as const) {
    if (name === 'alternate' && t.buffer.active.type !== 'alternate') continue;
    const from = name === 'normal' && lastLines !== undefined ? buf.length - lastLines : 0;
    for (let y = from; y < buf.length; y++) {
      const line = buf.getLine(y);
      const key = from === 0 && lastLines === undefined ? y : y - buf.length;
      for (let x = 0; x < t.cols; x++) out.push([`${name}[${key}][${x}]`, line ? cellKey(t, x, line) : 'missing']);
    }
  }
  const p = pen(t)!;
  const s = savedPen(t)!;
  const sc = savedCursor(t)!;
  const cs = charsets(t)!;
  out.push(['cursor', `${t.buffer.active.cursorX},${t.buffer.active.cursorY}`]);
  out.push(['pen', `${p.fg},${p.bg},${underlineStyle(p)},${underlineColor(p)},${linkOf(t, linkId(p))}`]);
  out.push(['saved', `${sc.x},${Math.max(0, sc.y - sc.ybase)},${s.pen.fg},${s.pen.bg},${s.charset ? 'set' : 'ascii'}`]);
  out.push(['charsets', `${cs.slots.map((o) => (o ? 'set' : '-')).join('')}|GL=${cs.gl}`]);
  return out;
}

/** The differences, one line each, naming the cell and the attribute. */
export function diff(a: Picture, b: Picture): string[] {
  const d: string[] = [];
  const mb = new Map(b);
  for (const [k, v] of a) {
    const w = mb.get(k);
    if (v === w) continue;
    if (k.includes('[')) {
      const va = v.split(','), vb = (w ?? '').split(',');
      d.push(`${k}: ${FIELDS.map((f, i) => (va[i] !== vb[i] ? `${f} ${JSON.stringify(va[i])}->${JSON.stringify(vb[i])}` : '')).filter(Boolean).join(' ')}`);
    } else d.push(`${k}: ${v} -> ${w}`);
  }
  return d;
}
