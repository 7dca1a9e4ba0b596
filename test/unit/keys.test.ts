import { describe, expect, it } from 'vitest';
import { readKey } from '../../src/keys/decode';
import { type KeyMode, LEGACY_MODE, encodeKey, encodeKeyForTmux, encodeKeyName } from '../../src/keys/encode';
import { parseKey } from '../../src/keys/names';

// Named keys encoded for each keyboard protocol, checked against kitty's own tests
// (kitty_tests/keys.py), xterm's modifyOtherKeys rules (input.c) and what tmux 3.3a was
// measured to send.

const K = (kittyFlags: number, extra: Partial<KeyMode> = {}): KeyMode => ({ ...LEGACY_MODE, kittyFlags, ...extra });
const MOK = (modifyOtherKeys: number, formatOtherKeys = 0): KeyMode => ({ ...LEGACY_MODE, modifyOtherKeys, formatOtherKeys });
const APP: KeyMode = { ...LEGACY_MODE, appCursor: true };

const CASES: Array<[string, KeyMode, string]> = [
  // Legacy, and kitty's flags-0 form for what legacy cannot express.
  ['Enter', LEGACY_MODE, '\r'], ['S-Enter', LEGACY_MODE, '\x1b[13;2u'], ['C-Enter', LEGACY_MODE, '\x1b[13;5u'], ['M-Enter', LEGACY_MODE, '\x1b\r'],
  ['S-Tab', LEGACY_MODE, '\x1b[Z'], ['BTab', LEGACY_MODE, '\x1b[Z'], ['C-BSpace', LEGACY_MODE, '\x08'], ['M-Escape', LEGACY_MODE, '\x1b\x1b'],
  ['C-S-a', LEGACY_MODE, '\x1b[97;6u'], ['C-3', LEGACY_MODE, '\x1b'], ['C-Space', LEGACY_MODE, '\x00'],
  ['S-Up', LEGACY_MODE, '\x1b[1;2A'], ['Up', APP, '\x1bOA'], ['S-Up', APP, '\x1b[1;2A'],
  ['F1', LEGACY_MODE, '\x1bOP'], ['S-F1', LEGACY_MODE, '\x1b[1;2P'], ['C-F5', LEGACY_MODE, '\x1b[15;5~'],
  // The names older versions knew, unchanged.
  ['C-c', LEGACY_MODE, '\x03'], ['^C', LEGACY_MODE, '\x03'], ['C-?', LEGACY_MODE, '\x7f'], ['C-@', LEGACY_MODE, '\x00'], ['M-x', LEGACY_MODE, '\x1bx'],
  ['Escape', LEGACY_MODE, '\x1b'], ['PageUp', LEGACY_MODE, '\x1b[5~'], ['Home', LEGACY_MODE, '\x1b[H'], ['F12', LEGACY_MODE, '\x1b[24~'], ['x', LEGACY_MODE, 'x'],
  // kitty, flag 1 (disambiguate).
  ['a', K(1), 'a'], ['Escape', K(1), '\x1b[27u'], ['Enter', K(1), '\r'], ['S-Enter', K(1), '\x1b[13;2u'],
  ['Tab', K(1), '\t'], ['BSpace', K(1), '\x7f'], ['S-Tab', K(1), '\x1b[9;2u'],
  ['C-a', K(1), '\x1b[97;5u'], ['M-a', K(1), '\x1b[97;3u'], ['C-S-a', K(1), '\x1b[97;6u'], ['M-A', K(1), '\x1b[97;4u'],
  ['C-Space', K(1), '\x1b[32;5u'], ['Up', K(1), '\x1b[A'], ['C-Up', K(1), '\x1b[1;5A'], ['Up', K(1, { appCursor: true }), '\x1b[A'],
  ['M-Enter', K(1), '\x1b[13;3u'], ['C-Enter', K(1), '\x1b[13;5u'], ['C-c', K(1), '\x1b[99;5u'],
  // kitty, flag 8 (every key as an escape code), 24 (and the text), 5 (alternate keys).
  ['a', K(8), '\x1b[97u'], ['C-a', K(8), '\x1b[97;5u'], ['Up', K(8), '\x1b[A'], ['Enter', K(8), '\x1b[13u'], ['Tab', K(8), '\x1b[9u'], ['BSpace', K(8), '\x1b[127u'],
  ['a', K(24), '\x1b[97;;97u'], ['A', K(24), '\x1b[97;2;65u'], ['A', K(5), 'A'], ['C-S-a', K(5), '\x1b[97:65;6u'],
  // xterm's modifyOtherKeys 1 and 2 (format 0: CSI 27;m;c~; format 1: CSI c;m u).
  ['S-Enter', MOK(1), '\x1b[27;2;13~'], ['C-Enter', MOK(1), '\x1b[27;5;13~'], ['M-Enter', MOK(1), '\x1b\r'], ['M-Enter', MOK(2), '\x1b[27;3;13~'],
  ['S-Tab', MOK(2), '\x1b[Z'], ['C-Tab', MOK(2), '\x1b[27;5;9~'], ['C-a', MOK(1), '\x01'], ['C-a', MOK(2), '\x1b[27;5;97~'],
  ['M-a', MOK(1), '\x1ba'], ['M-a', MOK(2), '\x1b[27;3;97~'], ['C-S-a', MOK(1), '\x1b[27;6;65~'], ['C-S-a', MOK(2), '\x1b[27;6;65~'],
  ['A', MOK(2), 'A'], ['S-Space', MOK(2), '\x1b[27;2;32~'], ['S-Up', MOK(2), '\x1b[1;2A'], ['S-Enter', MOK(2, 1), '\x1b[13;2u'],
];

describe('named keys', () => {
  it('encoded as the terminal the agent asked for would send them', () => {
    const wrong = CASES.filter(([spec, mode, want]) => encodeKey(parseKey(spec), mode).press !== want).map(([spec, mode]) => `${spec} ${JSON.stringify(mode)}`);
    expect(wrong).toEqual([]);
  });

  it('release events only with kitty flag 2, and none for a plain Enter', () => {
    expect(encodeKeyName('Enter', K(3))).toBe('\r');
    expect(encodeKeyName('S-Enter', K(3))).toBe('\x1b[13;2u\x1b[13;2:3u');
    expect(encodeKeyName('Escape', K(3))).toBe('\x1b[27u\x1b[27;1:3u');
    expect(encodeKeyName('Up', K(3))).toBe('\x1b[A\x1b[1;1:3A');
  });

  it('for tmux: legacy bytes where they exist, else CSI code;mod u with the shifted character, as tmux 3.3a sends', () => {
    expect(['S-Enter', 'C-Enter', 'S-Tab', 'C-S-a', 'C-Tab', 'S-Up', 'C-c', 'M-Enter'].map(encodeKeyForTmux)).toEqual([
      '\x1b[13;2u', '\x1b[13;5u', '\x1b[Z', '\x1b[65;6u', '\x1b[9;5u', '\x1b[1;2A', '\x03', '\x1b\r',
    ]);
  });

  it('unknown names are refused with the list of known ones', () => {
    expect(() => parseKey('Hyper-x')).toThrow(/Unknown key "Hyper-x". Known keys: Enter/);
    expect(() => parseKey('Entr')).toThrow(/Unknown key/);
  });

  it('reads reported keys back', () => {
    expect(readKey('\x1b[13;2u')).toEqual({ key: { name: 'enter', mods: 1 }, event: 1, form: 'csi-u' });
    expect(readKey('\x1b[27;5;92~')).toEqual({ key: { char: '\\', mods: 4 }, event: 1, form: 'xterm' });
    expect(readKey('\x1b[97:65;6:3u')).toEqual({ key: { char: 'a', mods: 5 }, event: 3, form: 'csi-u' });
    expect(readKey('\x1b[27;6;65~')).toEqual({ key: { char: 'a', mods: 5 }, event: 1, form: 'xterm' });
    expect(readKey('\x1b[200~')).toBeNull();
    expect(readKey('\x1b[?1u')).toBeNull();
    expect(readKey('\x1b[57442;5u')).toBeNull();
  });
});
