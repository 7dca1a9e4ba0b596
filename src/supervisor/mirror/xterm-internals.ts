import type { Terminal } from '@xterm/headless';

// What we read from @xterm/headless's private core (the pinned 6.0.0): the state xterm
// keeps right through resets and resizes but does not expose. Every read is guarded, so a
// changed internal loses only that one item (a replay without it), never the mirror.

interface Core {
  buffers?: { normal?: { lines?: { onTrim?: (listener: (amount: number) => void) => unknown } } };
  _inputHandler?: { _parser?: { currentState?: unknown } };
  buffer?: {
    scrollTop?: unknown;
    scrollBottom?: unknown;
    ybase?: unknown;
    savedX?: unknown;
    savedY?: unknown;
    tabs?: unknown;
  };
  coreService?: { isCursorHidden?: unknown };
  coreMouseService?: { activeEncoding?: unknown };
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
