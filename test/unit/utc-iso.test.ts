import { describe, expect, it } from 'vitest';
import { utcIso } from '../../src/utc-iso';

describe('utcIso', () => {
  it('writes what Date#toISOString writes', () => {
    const samples = [0, 1, 999, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 4_107_542_400_000 /* 2100-03-01 */, Date.now(), -1, -86_400_001, -62_135_596_800_000 /* year 1 */, 253_402_300_799_999 /* 9999-12-31 */, 253_402_300_800_000, 1.5, 1_765_000_000_123.999, -0.5];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor(Math.random() * 253_402_300_799_999));
    for (const ms of samples) expect(utcIso(ms)).toBe(new Date(ms).toISOString());
  });
});
