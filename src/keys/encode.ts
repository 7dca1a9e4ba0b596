import { ALT, CTRL, FUNC_KEYS, type Key, SHIFT, parseKey, shiftedChar } from './names';

// A key as the terminal the agent asked for would send it:
//   kitty flags > 0        -> kitty's encoder (kitty/key_encoding.c; its tests, kitty_tests/keys.py,
//                             where the protocol's own tables disagree)
//   modifyOtherKeys 1 or 2 -> xterm's (input.c, ModifyOtherKeys); formatOtherKeys 1 selects
//                             `CSI code ; mod u` instead of `CSI 27 ; mod ; code ~`
//   neither                -> legacy bytes; a key that legacy cannot express (S-Enter, C-Enter,
//                             C-S-a…) gets the `CSI code ; mod u` form kitty itself sends with no
//                             flags, never a silently different key.
// Release events only when kitty flag 2 asked for them, for keys sent as escape sequences.

export interface KeyMode {
  /** The kitty keyboard protocol's flags in force (0: not used). */
  kittyFlags: number;
  /** xterm's modifyOtherKeys level (0, 1, 2). */
  modifyOtherKeys: number;
  /** xterm's formatOtherKeys (1: CSI u form). */
  formatOtherKeys: number;
  /** DECCKM: cursor keys as SS3. */
  appCursor: boolean;
}

export const LEGACY_MODE: KeyMode = { kittyFlags: 0, modifyOtherKeys: 0, formatOtherKeys: 0, appCursor: false };

export interface EncodedKey {
  press: string;
  /** kitty flag 2: the release event. */
  release?: string;
}

/** kitty's mapping of Ctrl with an ASCII key (keyboard-protocol.rst, "Legacy ctrl mapping"). */
const CTRL_MAP: Readonly<Record<string, number>> = {
  ' ': 0, '/': 31, 0: 48, 1: 49, 2: 0, 3: 27, 4: 28, 5: 29, 6: 30, 7: 31, 8: 127, 9: 57,
  '?': 127, '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31, '~': 30,
};
const ctrled = (c: string): number => (c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : (CTRL_MAP[c] ?? c.charCodeAt(0)));
/** Keys whose Ctrl/Alt/Shift forms kitty keeps legacy without the disambiguate flag. */
const LEGACY_TEXT = /^[a-z0-9`\-=[\]\\;',./ ]$/;

// ---- kitty ---------------------------------------------------------------------------

function kittyCsi(n: number, mods: number, final: string, event: number): string {
  const m = mods ? mods + 1 : 0;
  const second = m || event ? `${m || 1}${event ? `:${event}` : ''}` : '';
  const num = n !== 1 || second ? String(n) : '';
  return `\x1b[${num}${second ? `;${second}` : ''}${final}`;
}

function kittyFunc(name: string, mods: number, flags: number, appCursor: boolean, event: number): string {
  const f = FUNC_KEYS[name]!;
  const dis = flags & 1;
  const events = flags & 2;
  const all = flags & 8;
  if (!event) {
    if (appCursor && !dis && !events && !mods && f.ss3) return `\x1bO${f.final}`;
    if (!mods) {
      if (name === 'escape' && !dis && !all) return '\x1b';
      if (!all && f.legacy && name !== 'escape') return f.legacy;
      if (f.fkeySs3 && !all) return `\x1bO${f.final}`;
    }
    if (mods === ALT && !dis && f.legacy) return `\x1b${f.legacy}`;
    if (mods === SHIFT && name === 'tab' && !dis) return '\x1b[Z';
    if (mods === CTRL && name === 'bspace' && !dis) return '\x08';
  }
  return kittyCsi(f.n, mods, f.final, event);
}

function kittyText(c: string, mods: number, flags: number, event: number): string {
  const dis = flags & 1;
  const alts = flags & 4;
  const all = flags & 8;
  const embed = flags & 16;
  const code = c.codePointAt(0)!;
  const text = mods & ~SHIFT ? '' : mods & SHIFT ? shiftedChar(c) : c; // what the key would type
  if (!event && !all && text) return text;
  if (!event && !dis && !all && mods && LEGACY_TEXT.test(c)) {
    const s = mods & SHIFT ? shiftedChar(c) : c;
    if (mods === ALT || mods === (SHIFT | ALT)) return `\x1b${s}`;
    if (mods === CTRL) return String.fromCharCode(ctrled(c));
    if (mods === (CTRL | ALT)) return `\x1b${String.fromCharCode(ctrled(c))}`;
  }
  const shifted = alts && mods & SHIFT && shiftedChar(c) !== c ? `:${shiftedChar(c).codePointAt(0)}` : '';
  const m = mods ? mods + 1 : 0;
  const second = m || event ? `${m || 1}${event ? `:${event}` : ''}` : '';
  const t = embed && text && event !== 3 ? `;${text.codePointAt(0)}` : '';
  return `\x1b[${code}${shifted}${second || t ? `;${second}` : ''}${t}u`;
}

function kittyEncode(key: Key, flags: number, appCursor: boolean): EncodedKey {
  const at = (event: number) => (key.name !== undefined ? kittyFunc(key.name, key.mods, flags, appCursor, event) : kittyText(key.char, key.mods, flags, event));
  const press = at(0);
  if (!(flags & 2) || press.length <= 2 || !(press.startsWith('\x1b[') || press.startsWith('\x1bO'))) return { press };
  // The protocol: no release for Enter, Tab and Backspace unless every key is reported.
  const trio = key.name === 'enter' || key.name === 'tab' || key.name === 'bspace';
  if (trio && !(flags & 8) && !key.mods) return { press };
  return { press, release: at(3) };
}

// ---- legacy and xterm's modifyOtherKeys ------------------------------------------------

function legacy(key: Key, appCursor: boolean): string | null {
  const mods = key.mods;
  if (key.name !== undefined) {
    const f = FUNC_KEYS[key.name]!;
    if (!mods) {
      if (f.legacy) return f.legacy;
      if (f.ss3 && appCursor) return `\x1bO${f.final}`;
      if (f.fkeySs3) return `\x1bO${f.final}`;
      return f.n === 1 ? `\x1b[${f.final}` : `\x1b[${f.n}~`;
    }
    if (!f.legacy) return f.n === 1 ? `\x1b[1;${mods + 1}${f.final}` : `\x1b[${f.n};${mods + 1}~`;
    if (mods === SHIFT && key.name === 'tab') return '\x1b[Z';
    if (mods === ALT) return `\x1b${f.legacy}`;
    if (mods === CTRL && key.name === 'bspace') return '\x08';
    return null; // S-Enter, C-Enter, C-Tab, S-Escape…: no legacy bytes
  }
  const c = key.char;
  if (!mods) return c;
  if (mods === SHIFT) return shiftedChar(c);
  const base = mods & SHIFT ? shiftedChar(c) : c;
  if (mods === ALT || mods === (ALT | SHIFT)) return `\x1b${base}`;
  const ctrlable = (c >= 'a' && c <= 'z') || CTRL_MAP[c] !== undefined;
  if (mods === CTRL && ctrlable) return String.fromCharCode(ctrled(c));
  if (mods === (CTRL | ALT) && ctrlable) return `\x1b${String.fromCharCode(ctrled(c))}`;
  return null; // C-S-a, C-1…
}

function xtermOther(code: number, mods: number, format: number): string {
  return format ? `\x1b[${code};${mods + 1}u` : `\x1b[27;${mods + 1};${code}~`;
}

function xtermEncode(key: Key, mok: number, format: number, appCursor: boolean): string {
  const mods = key.mods;
  if (key.name !== undefined) {
    const f = FUNC_KEYS[key.name]!;
    const other = key.name === 'enter' || key.name === 'tab' || key.name === 'bspace' || key.name === 'escape';
    if (!other || !mods) return legacy(key, appCursor)!; // cursor and function keys: CSI 1;m A…
    if (key.name === 'tab' && mods === SHIFT) return '\x1b[Z'; // ISO_Left_Tab stays CSI Z
    if (mok === 1) {
      if (key.name === 'bspace') return legacy(key, appCursor) ?? xtermOther(f.n, mods, format);
      if (mods === ALT) return `\x1b${f.legacy!}`; // a bare Alt keeps metaSendsEscape
      return xtermOther(f.n, mods, format);
    }
    if (key.name === 'bspace' && mods === CTRL) return '\x08';
    return xtermOther(f.n, mods, format);
  }
  const c = key.char;
  if (!mods) return c;
  const keysym = mods & SHIFT ? shiftedChar(c) : c; // xterm reports the keysym: 'A' for S-a
  if (mods === SHIFT) return c === ' ' && mok === 2 ? xtermOther(32, mods, format) : shiftedChar(c);
  if (mok === 1) {
    const l = legacy(key, appCursor);
    if (l !== null && !(mods & CTRL && mods & SHIFT)) return l; // C-a, M-a stay legacy at level 1
  }
  return xtermOther(keysym.codePointAt(0)!, mods, format);
}

/** The bytes for a key in a keyboard mode. */
export function encodeKey(key: Key, mode: KeyMode): EncodedKey {
  if (mode.kittyFlags > 0) return kittyEncode(key, mode.kittyFlags, mode.appCursor);
  if (mode.modifyOtherKeys >= 1) return { press: xtermEncode(key, mode.modifyOtherKeys, mode.formatOtherKeys, mode.appCursor) };
  return { press: legacy(key, mode.appCursor) ?? kittyEncode(key, 0, mode.appCursor).press };
}

/** A named key (`S-Enter`), press and release together when the mode reports releases. */
export function encodeKeyName(spec: string, mode: KeyMode = LEGACY_MODE): string {
  const e = encodeKey(parseKey(spec), mode);
  return e.press + (e.release ?? '');
}

/**
 * What tmux 3.3a sends a pane for a key (measured, input-keys.c): legacy bytes where they
 * exist, else `CSI code ; mod u` with the code of the shifted character (C-S-a is
 * `CSI 65 ; 6 u`), which a pane that asked for modifyOtherKeys gets from tmux itself.
 */
export function encodeKeyForTmux(spec: string): string {
  const key = parseKey(spec);
  const l = legacy(key, false);
  if (l !== null) return l;
  if (key.char !== undefined) {
    const c = key.mods & SHIFT ? shiftedChar(key.char) : key.char;
    return `\x1b[${c.codePointAt(0)!};${key.mods + 1}u`;
  }
  return kittyEncode(key, 0, false).press;
}
