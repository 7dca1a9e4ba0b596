import { ALT, CTRL, type Key, SHIFT, SUPER } from './names';

// Modified keys as terminals report them, read back: kitty's `CSI code ; mods : event u`
// (and xterm's formatOtherKeys form, the same without the event), xterm's modifyOtherKeys
// `CSI 27 ; mods ; code ~`. Used to put a viewer's keys in the form the agent asked for,
// and to find the detach key when the agent's protocol changed how it is sent.

export interface ReportedKey {
  key: Key;
  /** 1 press, 2 repeat, 3 release. */
  event: number;
  /** kitty's form (`CSI … u`) or xterm's modifyOtherKeys form (`CSI 27 ; … ~`). */
  form: 'csi-u' | 'xterm';
}

/** Caps Lock and Num Lock, which kitty reports among the modifiers: not part of the key. */
const LOCKS = 64 | 128;
const KNOWN_MODS = SHIFT | ALT | CTRL | SUPER;

/** The length of the CSI sequence at `i` (an ESC), or 0 when there is none, whole, there. */
export function csiLength(b: Uint8Array, i: number): number {
  if (b[i] !== 0x1b || b[i + 1] !== 0x5b) return 0;
  for (let j = i + 2; j < b.length; j++) {
    const c = b[j]!;
    if (c >= 0x40 && c <= 0x7e) return j - i + 1;
    if (c < 0x20 || c > 0x3f) return 0;
  }
  return 0;
}

function keyOf(code: number, mods: number): Key | null {
  switch (code) {
    case 13:
      return { name: 'enter', mods };
    case 9:
      return { name: 'tab', mods };
    case 127:
    case 8:
      return { name: 'bspace', mods };
    case 27:
      return { name: 'escape', mods };
    default:
      break;
  }
  if (code < 32 || code > 126) return null; // kitty's own function keys, other planes: left as they are
  const c = String.fromCharCode(code);
  // xterm reports the shifted character (`A` for S-a): as a key, that is `a` with Shift.
  if (c >= 'A' && c <= 'Z') return { char: c.toLowerCase(), mods: mods | SHIFT };
  return { char: c, mods };
}

/** Reads a modified key from one whole CSI sequence (ESC [ … final); null if it is not one. */
export function readKey(seq: string): ReportedKey | null {
  let m = /^\x1b\[27;(\d+);(\d+)~$/.exec(seq);
  if (m) {
    const mods = Number(m[1]) - 1;
    if (mods < 0 || mods & ~(KNOWN_MODS | LOCKS)) return null;
    const key = keyOf(Number(m[2]), mods & KNOWN_MODS);
    return key ? { key, event: 1, form: 'xterm' } : null;
  }
  // code[:shifted[:base]] [; mods[:event] [; text]] u
  m = /^\x1b\[(\d+)(?::\d*)*(?:;(\d*)(?::(\d))?(?:;[\d:]*)?)?u$/.exec(seq);
  if (!m) return null;
  const mods = m[2] ? Number(m[2]) - 1 : 0;
  if (mods < 0 || mods & ~(KNOWN_MODS | LOCKS)) return null;
  const key = keyOf(Number(m[1]), mods & KNOWN_MODS);
  return key ? { key, event: m[3] ? Number(m[3]) : 1, form: 'csi-u' } : null;
}

/** The key a control byte is typed with: 0x1c is Ctrl+\, 0x02 Ctrl+b. */
export function controlKey(byte: number): string | null {
  if (byte >= 0x01 && byte <= 0x1a) return String.fromCharCode(byte + 0x60);
  if (byte === 0x00) return ' ';
  if (byte >= 0x1b && byte <= 0x1f) return String.fromCharCode(byte + 0x40);
  return null;
}
