import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importStarOnce } from '../../src/import-star';

// TypeScript's own helper, as tsc emits it for `import * as x` (copied: the bundles keep it
// and only share what it makes, scripts/bundle.js).
function importStar<T>(mod: T): T {
  const m = mod as Record<string, unknown> & { __esModule?: boolean };
  if (m && m.__esModule) return mod;
  const result: Record<string, unknown> = {};
  for (const k of Object.getOwnPropertyNames(m)) {
    if (k === 'default') continue;
    const desc = Object.getOwnPropertyDescriptor(m, k);
    Object.defineProperty(result, k, !desc || ('get' in desc ? !m.__esModule : desc.writable || desc.configurable) ? { enumerable: true, get: () => m[k] } : desc);
  }
  Object.defineProperty(result, 'default', { enumerable: true, value: mod });
  return result as T;
}

describe('importStarOnce', () => {
  it('makes a module namespace once and shares it', () => {
    let made = 0;
    const make = <T>(m: T): T => {
      made++;
      return importStar(m);
    };
    const a = importStarOnce(fs, make);
    const b = importStarOnce(fs, make);
    expect(b).toBe(a);
    expect(made).toBe(1);
    expect(a.readFileSync).toBe(fs.readFileSync);
    expect((a as unknown as { default: unknown }).default).toBe(fs);
  });

  it('keeps the bindings live, as the helper made them', () => {
    const mod: { n: number } = { n: 1 };
    const ns = importStarOnce(mod, importStar);
    mod.n = 2;
    expect(ns.n).toBe(2);
    expect(importStarOnce(mod, importStar)).toBe(ns);
  });

  it('returns an ES module as it is', () => {
    const esm = { __esModule: true, x: 1 };
    expect(importStarOnce(esm, importStar)).toBe(esm);
  });
});
