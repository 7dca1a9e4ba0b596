import { describe, expect, it } from 'vitest';
import { plainRowsText } from '../../src/supervisor/mirror/plain-rows';
import { loadSerializeAddon } from '../../src/supervisor/mirror/serialize-addon';
import { term, write } from '../helpers/cells';

// Plain rows of history are written out without the serializer (plain-rows.ts): the text
// must be byte for byte what the serializer writes for them, and anything else (colours,
// wide characters, a gap, a wrapped row) must be left to it.

const COLS = 30;

function serialized(t: ReturnType<typeof term>, from: number, end: number): string {
  const { SerializeAddon } = loadSerializeAddon();
  const addon = new SerializeAddon();
  t.loadAddon(addon);
  return addon.serialize({ range: { start: from, end }, excludeAltBuffer: true, excludeModes: true });
}

/** Deterministic pseudo-random numbers (xorshift). */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('plain rows written without the serializer', () => {
  it('equal the serializer byte for byte on random plain rows (spaces, empty rows, full rows)', async () => {
    const r = rng(7);
    const alphabet = 'abc XYZ 0123 .,;:!?-_=+/\\|"\'()[]{}<>~`@#$%^&*é';
    for (let round = 0; round < 40; round++) {
      const t = term(COLS, 5, 200);
      let out = '';
      const rows = 20 + Math.floor(r() * 20);
      for (let i = 0; i < rows; i++) {
        const len = r() < 0.1 ? 0 : r() < 0.1 ? COLS : Math.floor(r() * COLS);
        let line = '';
        for (let k = 0; k < len; k++) line += alphabet[Math.floor(r() * alphabet.length)];
        out += `${line}\r\n`;
      }
      await write(t, out);
      const end = t.buffer.normal.baseY - 2;
      const from = Math.floor(r() * Math.max(1, end));
      const fast = plainRowsText(t, from, end);
      expect(fast).not.toBeNull();
      expect(fast).toBe(serialized(t, from, end));
      t.dispose();
    }
  });

  it('leaves colours, attributes, wide characters, gaps and wrapped rows to the serializer', async () => {
    const cases = ['\x1b[31mred\x1b[0m', '\x1b[1mbold\x1b[0m', 'wide 中文', 'tab\there', 'gap\x1b[5Cafter', '\x1b[44m\x1b[K\x1b[0mbg erase', 'x'.repeat(COLS + 5)];
    for (const c of cases) {
      const t = term(COLS, 5, 200);
      await write(t, `plain before\r\n${c}\r\nplain after\r\n\r\n\r\n\r\n\r\n\r\n`);
      expect(plainRowsText(t, 0, 0)).toBe('plain before');
      expect(plainRowsText(t, 0, 2), JSON.stringify(c)).toBeNull();
      t.dispose();
    }
  });
});
