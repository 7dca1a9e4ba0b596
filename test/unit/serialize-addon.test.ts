import { SerializeAddon as Original } from '@xterm/addon-serialize';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { Terminal } from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { loadSerializeAddon } from '../../src/supervisor/mirror/serialize-addon';

// The supervisor's copy of @xterm/addon-serialize flattens each row as it ends (less
// memory on a long scrollback); what it writes must be byte for byte the original's.

function write(t: Terminal, data: string): Promise<void> {
  return new Promise((resolve) => t.write(data, resolve));
}

describe('patched serialize addon', () => {
  it('is patched (the pinned version has the text the fix replaces)', () => {
    expect(loadSerializeAddon().patched).toBe(true);
  });

  it('writes exactly what the original writes: colours, wide characters, wrapped lines, scrollback, alternate screen', async () => {
    const t = new Terminal({ cols: 40, rows: 10, scrollback: 500, allowProposedApi: true });
    t.loadAddon(new Unicode11Addon());
    t.unicode.activeVersion = '11';
    const mine = new (loadSerializeAddon().SerializeAddon)();
    const theirs = new Original();
    t.loadAddon(mine);
    t.loadAddon(theirs);
    let data = '';
    for (let i = 0; i < 300; i++) {
      data += `\x1b[3${i % 8}mline ${i}\x1b[0m \x1b[48;5;${i % 256}mbg\x1b[0m 宽字符 ${i % 7 === 0 ? 'x'.repeat(95) : ''}\r\n`;
    }
    data += '\x1b[1;4;38;2;10;200;30mbold truecolor\x1b[0m\r\n\x1b[41m   \x1b[0m trailing red cells\x1b[K';
    await write(t, data);
    expect(mine.serialize()).toBe(theirs.serialize());
    expect(mine.serialize({ scrollback: 0 })).toBe(theirs.serialize({ scrollback: 0 }));
    await write(t, '\x1b[?1049h\x1b[2J\x1b[Halt screen \x1b[7minverse\x1b[0m\x1b[5;5H');
    expect(mine.serialize()).toBe(theirs.serialize());
    t.dispose();
  });
});
