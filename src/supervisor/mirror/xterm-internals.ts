import type { IBufferCell, Terminal } from '@xterm/headless';

// What we read from @xterm/headless's private core (the pinned 6.0.0): the state xterm
// keeps right through resets and resizes but does not expose. Every read is guarded, so a
// changed internal loses only that one item (a replay without it), never the mirror.
// (The serializer's source patches, serialize-addon.ts, reach the same cells and links
// through the readers below, handed to the patched addon.)

/** Flags of xterm's packed attributes (common/buffer/Constants.ts): FgFlags.UNDERLINE, BgFlags.HAS_EXTENDED. */
const FG_UNDERLINE = 0x10000000;
const BG_HAS_EXTENDED = 0x10000000;

/**
 * A cell or a pen (xterm's CellData / AttributeData): the public IBufferCell methods plus
 * the packed words and the extended attributes (underline style and colour, link) that
 * the public interface does not give.
 */
export interface Attrs {
  fg: number;
  bg: number;
  extended?: { _ext?: unknown; underlineColor?: unknown; urlId?: unknown };
  isBold(): number;
  isDim(): number;
  isItalic(): number;
  isBlink(): number;
  isInverse(): number;
  isInvisible(): number;
  isStrikethrough(): number;
  isOverline(): number;
  isFgRGB(): boolean;
  isBgRGB(): boolean;
  isFgPalette(): boolean;
  isBgPalette(): boolean;
  getFgColor(): number;
  getBgColor(): number;
  getFgColorMode(): number;
  getBgColorMode(): number;
}

interface CharsetService {
  _charsets?: unknown;
  glevel?: unknown;
}

interface Core {
  _inputHandler?: { _parser?: { currentState?: unknown }; _curAttrData?: Attrs; parse?(data: string): unknown };
  buffer?: {
    scrollTop?: unknown;
    scrollBottom?: unknown;
    ybase?: unknown;
    savedX?: unknown;
    savedY?: unknown;
    savedCurAttrData?: Attrs;
    savedCharset?: unknown;
    tabs?: unknown;
  };
  buffers?: { normal?: BufferPosition & { savedCurAttrData?: Attrs; lines?: { onTrim?: (listener: (amount: number) => void) => unknown } }; alt?: BufferPosition };
  coreService?: { isCursorHidden?: unknown };
  coreMouseService?: { activeEncoding?: unknown };
  _charsetService?: CharsetService;
  _oscLinkService?: { getLinkData?(id: number): { uri?: unknown; id?: unknown } | undefined };
}

/** What xterm's Buffer.resize resets even when the size does not change. */
interface BufferPosition {
  x?: unknown;
  savedX?: unknown;
  scrollTop?: unknown;
  scrollBottom?: unknown;
}

const KEPT_ACROSS_SCROLLBACK = ['x', 'savedX', 'scrollTop', 'scrollBottom'] as const;

/**
 * Sets the scrollback. xterm applies it with a resize of both buffers to their own size,
 * which also resets their scroll regions (DECSTBM) and takes the cursor out of a pending
 * wrap (x clamped to the last column: the next character then overwrites it instead of
 * wrapping, one line fewer); those are put back.
 */
export function setScrollback(term: Terminal, lines: number): void {
  const bs = core(term).buffers;
  const kept = [bs?.normal, bs?.alt].map((b) => (b ? KEPT_ACROSS_SCROLLBACK.map((k) => [k, b[k]] as const).filter(([, v]) => typeof v === 'number') : []));
  term.options.scrollback = lines;
  [bs?.normal, bs?.alt].forEach((b, i) => {
    if (b) for (const [k, v] of kept[i]!) b[k] = v;
  });
}

function core(term: Terminal): Core {
  return (term as unknown as { _core?: Core })._core ?? {};
}

/** The parser is between sequences (its ground state): a cut there leaves nothing half-parsed. */
export function parserAtGround(term: Terminal): boolean {
  return core(term)._inputHandler?._parser?.currentState === 0;
}

/** The scroll region (DECSTBM), 0-based rows; null when unknown. */
export function scrollRegion(term: Terminal): { top: number; bottom: number } | null {
  const b = core(term).buffer;
  const top = b?.scrollTop;
  const bottom = b?.scrollBottom;
  return typeof top === 'number' && typeof bottom === 'number' ? { top, bottom } : null;
}

/** Where DECSC saved the cursor, as buffer coordinates, and the top of the screen then; null when unknown. */
export function savedCursor(term: Terminal): { x: number; y: number; ybase: number } | null {
  const b = core(term).buffer;
  const x = b?.savedX;
  const y = b?.savedY;
  const ybase = b?.ybase;
  return typeof x === 'number' && typeof y === 'number' && typeof ybase === 'number' ? { x, y, ybase } : null;
}

/** The columns with a tab stop, sorted; null when unknown. */
export function tabStops(term: Terminal): number[] | null {
  const tabs = core(term).buffer?.tabs;
  if (typeof tabs !== 'object' || tabs === null) return null;
  return Object.keys(tabs)
    .map(Number)
    .filter((x) => Number.isInteger(x) && (tabs as Record<number, unknown>)[x])
    .sort((a, b) => a - b);
}

/** DECTCEM: the program hid the cursor. */
export function cursorHidden(term: Terminal): boolean {
  return core(term).coreService?.isCursorHidden === true;
}

/** The mouse report encoding the program chose (SGR, URXVT…), or null. */
export function mouseEncoding(term: Terminal): string | null {
  const enc = core(term).coreMouseService?.activeEncoding;
  return typeof enc === 'string' ? enc : null;
}

/**
 * Calls `listener` with the number of lines dropped from the top of the normal buffer's
 * history (its scrollback is full). False when xterm does not offer it: then absolute line
 * numbers count from the oldest line still kept.
 */
export function onHistoryTrim(term: Terminal, listener: (amount: number) => void): boolean {
  const onTrim = core(term).buffers?.normal?.lines?.onTrim;
  if (typeof onTrim !== 'function') return false;
  onTrim.call(core(term).buffers!.normal!.lines, listener);
  return true;
}

/** The parser's state (0: ground, 1: escape…); null when unknown. */
export function parserState(term: Terminal): number | null {
  const st = core(term)._inputHandler?._parser?.currentState;
  return typeof st === 'number' ? st : null;
}

/** Underline style of a cell or pen: 0 none, 1 single, 2 double, 3 curly, 4 dotted, 5 dashed. */
export function underlineStyle(a: Attrs): number {
  if (!(a.fg & FG_UNDERLINE)) return 0;
  const ext = a.extended?._ext;
  return a.bg & BG_HAS_EXTENDED && typeof ext === 'number' ? (ext >>> 26) & 7 || 1 : 1;
}

/** The underline colour (xterm's packed colour: mode bits and value), 0 for the default. */
export function underlineColor(a: Attrs): number {
  const c = a.extended?.underlineColor;
  return a.bg & BG_HAS_EXTENDED && typeof c === 'number' ? c : 0;
}

/** The OSC 8 link a cell or pen belongs to (xterm's link id), 0 for none. */
export function linkId(a: Attrs): number {
  const id = a.extended?.urlId;
  return a.bg & BG_HAS_EXTENDED && typeof id === 'number' ? id : 0;
}

/** The pen carries extended attributes (xterm keeps the bit, not always the attributes, in DECSC). */
export function hasExtended(a: Attrs): boolean {
  return (a.bg & BG_HAS_EXTENDED) !== 0;
}

/** An OSC 8 link's target and its `id=` parameter, or null. */
export function linkData(term: Terminal, id: number): { uri: string; id: string | null } | null {
  if (id === 0) return null;
  const d = core(term)._oscLinkService?.getLinkData?.(id);
  if (!d || typeof d.uri !== 'string') return null;
  return { uri: d.uri, id: typeof d.id === 'string' ? d.id : null };
}

/** The pen: the attributes text is printed with now. */
export function pen(term: Terminal): Attrs | null {
  return core(term)._inputHandler?._curAttrData ?? null;
}

/** What DECSC saved besides the position: the pen and the GL charset (null: ASCII). */
export function savedPen(term: Terminal): { pen: Attrs; charset: object | null } | null {
  const b = core(term).buffer;
  if (!b?.savedCurAttrData) return null;
  const cs = b.savedCharset;
  return { pen: b.savedCurAttrData, charset: typeof cs === 'object' && cs !== null ? cs : null };
}

/** The pen DECSC saved on the normal screen (what entering the alternate screen saved). */
export function normalSavedPen(term: Terminal): Attrs | null {
  return core(term).buffers?.normal?.savedCurAttrData ?? null;
}

/** G0-G3 (each a charset object, null for ASCII) and which of them is GL; null when unknown. */
export function charsets(term: Terminal): { slots: Array<object | null>; gl: number } | null {
  const cs = core(term)._charsetService;
  const slots = cs?._charsets;
  if (!Array.isArray(slots) || typeof cs?.glevel !== 'number') return null;
  return { slots: [0, 1, 2, 3].map((g) => (typeof slots[g] === 'object' && slots[g] !== null ? (slots[g] as object) : null)), gl: cs.glevel };
}

/** Parses `data` at once, bypassing the write queue (a scratch terminal, never the mirror). */
export function parseNow(term: Terminal, data: string): void {
  core(term)._inputHandler?.parse?.(data);
}

/** A cell of the public API is xterm's CellData, with the packed words Attrs reads. */
export function cellAttrs(cell: IBufferCell): Attrs {
  return cell as unknown as Attrs;
}

/** The normal buffer's lines (xterm's CircularList): the line objects themselves, in order. */
export interface LineList {
  readonly length: number;
  get(index: number): unknown;
}

/**
 * The normal buffer's list of lines, and a way to hear of lines dropped from its top; null
 * when unknown. A reset (RIS) replaces the list: compare it to tell.
 */
export function normalLines(term: Terminal): (LineList & { onTrim?: (listener: (amount: number) => void) => unknown }) | null {
  const lines = core(term).buffers?.normal?.lines as (LineList & { onTrim?: (listener: (amount: number) => void) => unknown }) | undefined;
  return lines && typeof lines.get === 'function' && typeof lines.length === 'number' ? lines : null;
}
