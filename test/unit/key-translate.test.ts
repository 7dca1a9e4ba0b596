import { describe, expect, it } from 'vitest';
import { type KeyMode, LEGACY_MODE } from '../../src/keys/encode';
import { translateKeys } from '../../src/supervisor/viewers/key-translate';

// A viewer's reported keys put in the protocol the agent asked for.

const K = (kittyFlags: number): KeyMode => ({ ...LEGACY_MODE, kittyFlags });
const MOK = (modifyOtherKeys: number, formatOtherKeys = 0): KeyMode => ({ ...LEGACY_MODE, modifyOtherKeys, formatOtherKeys });

describe('a viewer’s keys in the agent’s protocol', () => {
  const t = (s: string, mode: KeyMode) => translateKeys(Buffer.from(s, 'latin1'), mode).toString('latin1');

  it('xterm modifyOtherKeys reports become kitty reports for an agent with kitty flags', () => {
    expect(t('x\x1b[27;2;13~y', K(1))).toBe('x\x1b[13;2uy');
    expect(t('\x1b[27;5;97~', K(1))).toBe('\x1b[97;5u');
    expect(t('\x1b[13;2u', K(1))).toBe('\x1b[13;2u');
  });

  it('tmux CSI u reports become CSI 27 reports for an agent that asked for modifyOtherKeys format 0', () => {
    expect(t('\x1b[13;2u', MOK(2))).toBe('\x1b[27;2;13~');
    expect(t('\x1b[13;2u', MOK(2, 1))).toBe('\x1b[13;2u');
    expect(t('\x1b[13;2:3u', MOK(2))).toBe('');
  });

  it('for a legacy agent: legacy bytes where they exist, the report as it came where not', () => {
    expect(t('\x1b[97;5u', LEGACY_MODE)).toBe('\x01');
    expect(t('\x1b[13;2u', LEGACY_MODE)).toBe('\x1b[13;2u');
    expect(t('\x1b[27;2;13~', LEGACY_MODE)).toBe('\x1b[27;2;13~');
  });

  it('leaves everything else alone: text, cursor keys, a bracketed paste', () => {
    const same = Buffer.from('\x1b[200~paste\x1b[201~\x1b[A\x1bOPtext\x1b', 'latin1');
    expect(translateKeys(same, K(1))).toBe(same);
    expect(translateKeys(same, MOK(2))).toBe(same);
  });
});
