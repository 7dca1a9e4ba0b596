import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/sys/sha256';

describe('sha256Hex', () => {
  it('equals node:crypto on paths, empty text, every length around a block, and UTF-8', () => {
    const texts = ['', 'abc', '/home/user/.symposium', '/tmp/é中文/😀', ...Array.from({ length: 140 }, (_, n) => 'x'.repeat(n))];
    for (let i = 0; i < 50; i++) texts.push(crypto.randomBytes(1 + (i * 7) % 200).toString('latin1'));
    for (const t of texts) expect(sha256Hex(t), JSON.stringify(t)).toBe(crypto.createHash('sha256').update(t).digest('hex'));
  });
});
