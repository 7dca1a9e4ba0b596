import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMallocTrim, mallocTrim } from '../../src/supervisor/native/malloc-trim';

// The addon the build makes from native/malloc-trim.c (scripts/build-relay.js).
const BUILT = path.join(__dirname, '..', '..', 'dist', 'symposium-malloc-trim.node');

describe('mallocTrim', () => {
  it('does nothing until the addon is loaded, and a missing addon is no error', () => {
    expect(loadMallocTrim(path.join(__dirname, 'no-such-addon.node'))).toBe(false);
    expect(mallocTrim()).toBe(false);
  });

  it('gives freed memory back once the built addon is loaded', () => {
    expect(loadMallocTrim(BUILT)).toBe(true);
    // Holes in the allocator's heap: many blocks, every other one freed.
    const kept: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(16 * 1024, 1);
      if (i % 2 === 0) kept.push(b);
    }
    expect(typeof mallocTrim()).toBe('boolean');
    expect(kept.length).toBe(1000);
  });
});
