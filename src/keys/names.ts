import { UserError } from '../errors';

// Named keys, in tmux's spelling (send-keys): Enter, Escape, C-c, M-x, S-Enter, C-S-Tab…
// A name is parsed into a key and its modifiers; keys/encode.ts turns that into the bytes
// a terminal sends for it, for the keyboard protocol the agent asked for.

export const SHIFT = 1;
export const ALT = 2;
export const CTRL = 4;
export const SUPER = 8;

/** Keys with a name (not a character), with kitty's key number and final byte, and the legacy form without modifiers. */
export interface FuncKey {
  /** kitty's number: the `13` of `CSI 13 ; 2 u`, the `1` of `CSI 1 ; 2 A`, the `5` of `CSI 5 ; 2 ~`. */
  n: number;
  final: string;
  /** The bytes without modifiers when they are not CSI n final. */
  legacy?: string;
  /** Cursor keys: SS3 in application cursor mode. */
  ss3?: boolean;
  /** F1-F4: SS3 without modifiers. */
  fkeySs3?: boolean;
}

export const FUNC_KEYS: Readonly<Record<string, FuncKey>> = {
  escape: { n: 27, final: 'u', legacy: '\x1b' },
  enter: { n: 13, final: 'u', legacy: '\r' },
  tab: { n: 9, final: 'u', legacy: '\t' },
  bspace: { n: 127, final: 'u', legacy: '\x7f' },
  insert: { n: 2, final: '~' },
  delete: { n: 3, final: '~' },
  left: { n: 1, final: 'D', ss3: true },
  right: { n: 1, final: 'C', ss3: true },
  up: { n: 1, final: 'A', ss3: true },
  down: { n: 1, final: 'B', ss3: true },
  home: { n: 1, final: 'H', ss3: true },
  end: { n: 1, final: 'F', ss3: true },
  pageup: { n: 5, final: '~' },
  pagedown: { n: 6, final: '~' },
  f1: { n: 1, final: 'P', fkeySs3: true },
  f2: { n: 1, final: 'Q', fkeySs3: true },
  f3: { n: 1, final: 'R', fkeySs3: true },
  f4: { n: 1, final: 'S', fkeySs3: true },
  f5: { n: 15, final: '~' },
  f6: { n: 17, final: '~' },
  f7: { n: 18, final: '~' },
  f8: { n: 19, final: '~' },
  f9: { n: 20, final: '~' },
  f10: { n: 21, final: '~' },
  f11: { n: 23, final: '~' },
  f12: { n: 24, final: '~' },
};

const ALIASES: Readonly<Record<string, string>> = {
  return: 'enter',
  esc: 'escape',
  backspace: 'bspace',
  ppage: 'pageup',
  npage: 'pagedown',
  ic: 'insert',
  dc: 'delete',
};

/** US keyboard: the character Shift gives on each key, and back. */
export const SHIFTED: Readonly<Record<string, string>> = {
  '`': '~', 1: '!', 2: '@', 3: '#', 4: '$', 5: '%', 6: '^', 7: '&', 8: '*', 9: '(', 0: ')',
  '-': '_', '=': '+', '[': '{', ']': '}', '\\': '|', ';': ':', "'": '"', ',': '<', '.': '>', '/': '?',
};
const UNSHIFTED: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(SHIFTED).map(([k, v]) => [v, k]));

/** A key and its modifiers: a named key or one character (its unshifted form). */
export type Key = { name: string; char?: undefined; mods: number } | { name?: undefined; char: string; mods: number };

export const KEY_NAMES = [
  'Enter', 'Escape', 'Tab', 'BTab', 'Space', 'BSpace', 'Up', 'Down', 'Left', 'Right', 'Home', 'End', 'PageUp', 'PageDown',
  'Insert', 'Delete', 'F1…F12', 'C-<key>', 'M-<key>', 'S-<key>', 'Super-<key>',
];

function unknown(spec: string): UserError {
  return new UserError(`Unknown key ${JSON.stringify(spec)}. Known keys: ${KEY_NAMES.join(', ')}, combined like C-S-Enter`);
}

/** 'C-S-Enter' -> { name: 'enter', mods: CTRL|SHIFT }; 'A' -> { char: 'a', mods: SHIFT }. */
export function parseKey(spec: string): Key {
  let mods = 0;
  let rest = spec;
  for (;;) {
    const m = /^(C|M|S|Super)-(.+)$/i.exec(rest) ?? /^(\^)(.)$/.exec(rest);
    if (!m) break;
    const which = m[1]!.toLowerCase();
    mods |= which === 'c' || which === '^' ? CTRL : which === 'm' ? ALT : which === 's' ? SHIFT : SUPER;
    rest = m[2]!;
  }
  const lower = rest.toLowerCase();
  if (lower === 'btab') return { name: 'tab', mods: mods | SHIFT };
  if (lower === 'space') return { char: ' ', mods };
  const name = ALIASES[lower] ?? lower;
  if (FUNC_KEYS[name] && [...rest].length > 1) return { name, mods };
  if ([...rest].length !== 1) throw unknown(spec);
  // An upper-case letter or a shifted symbol is its key with Shift (kitty: "the codepoint
  // used is always the lower-case (un-shifted) version").
  // With Ctrl a letter's case is not Shift (C-C is C-c, as in older versions and tmux).
  if (rest >= 'A' && rest <= 'Z') return { char: lower, mods: mods & CTRL ? mods : mods | SHIFT };
  // With Ctrl the symbol itself has a control code (C-? is DEL, C-@ NUL).
  if (UNSHIFTED[rest] !== undefined && mods !== 0 && !(mods & CTRL)) return { char: UNSHIFTED[rest]!, mods: mods | SHIFT };
  return { char: rest, mods };
}

/** The character Shift gives on this key (US layout). */
export function shiftedChar(c: string): string {
  return c >= 'a' && c <= 'z' ? c.toUpperCase() : (SHIFTED[c] ?? c);
}
