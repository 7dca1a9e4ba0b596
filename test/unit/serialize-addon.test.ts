import { SerializeAddon as Original } from '@xterm/addon-serialize';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSerializeAddon } from '../../src/supervisor/mirror/serialize-addon';
import { PATCHES, applyPatches } from '../../src/supervisor/mirror/serialize-patches';
import { term, write } from '../helpers/cells';

// The supervisor's copy of @xterm/addon-serialize is the installed file with exact-text
// patches (serialize-roundtrip.test.ts checks what they fix). An addon of another version
// that does not take every patch loads unpatched: this test fails then, so an upgrade is
// never shipped with the fixes silently gone.

describe('patched serialize addon', () => {
  it('the installed version takes every patch', () => {
    const loaded = loadSerializeAddon();
    expect(loaded.missing).toEqual([]);
    expect(loaded.patched).toBe(true);
    expect(loaded.SerializeAddon).not.toBe(Original);
  });

  it('one patch that does not fit: nothing is applied, and its name is given', () => {
    const source = fs.readFileSync(require.resolve('@xterm/addon-serialize'), 'utf8');
    const broken = source.replace(PATCHES[1]!.from, 'somethingElse');
    expect(applyPatches(broken).missing).toEqual([PATCHES[1]!.name]);
    expect(applyPatches(source).missing).toEqual([]);
  });

  it('a long coloured scrollback serializes and replays to the same text', async () => {
    const t = term(40, 10, 500);
    const addon = new (loadSerializeAddon().SerializeAddon)();
    t.loadAddon(addon);
    let data = '';
    for (let i = 0; i < 300; i++) data += `\x1b[3${i % 8}mline ${i}\x1b[0m \x1b[48;5;${i % 256}mbg\x1b[0m 宽字符 ${i % 7 === 0 ? 'x'.repeat(95) : ''}\r\n`;
    await write(t, data);
    const copy = term(40, 10, 500);
    await write(copy, addon.serialize());
    const text = (x: typeof t) => Array.from({ length: x.buffer.active.length }, (_, y) => x.buffer.active.getLine(y)!.translateToString(true)).join('\n');
    expect(text(copy)).toBe(text(t));
    t.dispose();
    copy.dispose();
  });
});
