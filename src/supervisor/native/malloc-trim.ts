import * as path from 'node:path';
import { DIST_DIR } from '../../dist-dir';

// glibc's malloc_trim(0) for the supervisor (native/malloc-trim.c, built at install next to
// the relay): after a collection, the allocator's free pages between live blocks go back to
// the kernel. Loaded before `ready`, like everything else read from the install directory.
// Without it (no compiler at install, another libc) nothing is trimmed.

const ADDON = path.join(DIST_DIR, 'symposium-malloc-trim.node');

let trimFn: (() => boolean) | null = null;

/** Loads the addon; false when it is not there or does not load. */
export function loadMallocTrim(file = ADDON): boolean {
  const mod: { exports: { trim?: unknown } } = { exports: {} };
  try {
    process.dlopen(mod, file);
  } catch {
    return false;
  }
  const trim = mod.exports.trim;
  if (typeof trim !== 'function') return false;
  trimFn = trim as () => boolean;
  return true;
}

/** Gives the allocator's free pages back; true when some were. False when not loaded. */
export function mallocTrim(): boolean {
  return trimFn ? trimFn() : false;
}
