import { Terminal } from '@xterm/headless';
import { type Attrs, charsets, linkData, linkId, parseNow, underlineColor, underlineStyle } from './xterm-internals';

// The drawing state as escape sequences: the attributes of a cell or of the pen (every
// one xterm keeps, underline style and colour included), the OSC 8 link it belongs to,
// and the character sets (G0-G3 and which is in GL). Used by the serializer's patches
// (serialize-addon.ts) and by the state written after the serialized screen (modes.ts).

/** xterm's colour modes (common/buffer/Constants.ts, Attributes.CM_*). */
const CM_MASK = 0x3000000;
const CM_P256 = 0x2000000;
const CM_RGB = 0x3000000;

/** SGR parameters of one colour: 30-37/90-97 for the 16 colours, 38;5;n for the 256 (even n < 16), 38;2;r;g;b. */
function colour(out: Array<number | string>, a: Attrs, fg: boolean): void {
  const v = fg ? a.getFgColor() : a.getBgColor();
  const base = fg ? 30 : 40;
  if (fg ? a.isFgRGB() : a.isBgRGB()) out.push(base + 8, 2, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  else if (fg ? a.isFgPalette() : a.isBgPalette()) {
    // `38;5;1` and `31` are stored apart (P256 / P16): a bold P16 colour is brightened by
    // some terminals, a P256 one is not.
    const mode = fg ? a.getFgColorMode() : a.getBgColorMode();
    if (mode === CM_P256 || v >= 16) out.push(base + 8, 5, v);
    else out.push(v & 8 ? base + 60 + (v & 7) : base + (v & 7));
  }
}

/** SGR parameters setting an underline colour (58), or back to the default (59). */
export function underlineColorParams(c: number): Array<number | string> {
  const mode = c & CM_MASK;
  if (mode === CM_RGB) return [58, 2, (c >>> 16) & 255, (c >>> 8) & 255, c & 255];
  if (mode !== 0) return [58, 5, c & 255];
  return [59];
}

/** The SGR parameters that set exactly these attributes from any state (starting with 0). */
export function sgrParams(a: Attrs): Array<number | string> {
  const out: Array<number | string> = [0];
  if (a.isBold()) out.push(1);
  if (a.isDim()) out.push(2);
  if (a.isItalic()) out.push(3);
  const ul = underlineStyle(a);
  if (ul) out.push(ul === 1 ? 4 : `4:${ul}`);
  if (a.isBlink()) out.push(5);
  if (a.isInverse()) out.push(7);
  if (a.isInvisible()) out.push(8);
  if (a.isStrikethrough()) out.push(9);
  if (a.isOverline()) out.push(53);
  colour(out, a, true);
  colour(out, a, false);
  const ulc = underlineColor(a);
  if (ulc) out.push(...underlineColorParams(ulc));
  return out;
}

export function sgrOf(a: Attrs): string {
  return `\x1b[${sgrParams(a).join(';')}m`;
}

/** The OSC 8 sequence opening the link a cell or pen belongs to ('' for none). */
export function linkOpenOf(term: Terminal, a: Attrs): string {
  return linkOpen(term, linkId(a));
}

export function linkOpen(term: Terminal, id: number): string {
  const d = linkData(term, id);
  return d ? `\x1b]8;${d.id !== null ? `id=${d.id}` : ''};${d.uri}\x1b\\` : '';
}

export const LINK_CLOSE = '\x1b]8;;\x1b\\';

/**
 * The final character of each designator xterm knows, by charset object: xterm's table is
 * module-level, so the objects are the same in every terminal. Found once by designating
 * each in a scratch terminal.
 */
let designators: Map<object, string> | null = null;

function designatorsOf(): Map<object, string> {
  if (designators) return designators;
  designators = new Map();
  const t = new Terminal({ cols: 10, rows: 2, allowProposedApi: true });
  for (const f of '0AB4C5RQKYE6ZH7=') {
    parseNow(t, `\x1b(${f}`);
    const obj = charsets(t)?.slots[0];
    if (obj && !designators.has(obj)) designators.set(obj, f);
  }
  t.dispose();
  return designators;
}

/** The designator of a charset object (null: ASCII); `B` when unknown. */
export function designator(cs: object | null): string {
  return cs === null ? 'B' : (designatorsOf().get(cs) ?? 'B');
}

/** G0-G3 as designated and the shift in force (SO, LS2, LS3): nothing when all is ASCII in G0. */
export function charsetState(term: Terminal): string {
  const cs = charsets(term);
  if (!cs) return '';
  let out = '';
  cs.slots.forEach((obj, g) => {
    if (obj !== null) out += `\x1b${'()*+'[g]}${designator(obj)}`;
  });
  return out + (['', '\x0e', '\x1bn', '\x1bo'][cs.gl] ?? '');
}
