import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

// Starts the CLI from its one-file bundle with V8's code cache, both made by the build
// (scripts/bundle.js). Start-up is part of what a user waits for on every command,
// `attach` most of all: loaded as ~45 modules (resolved, read and compiled one by one) the
// CLI took ~26 ms before `attach` could connect; the bundle with its cache takes ~5.
// Without a bundle (only `tsc` ran) the modules load as they are.

export const BUNDLE = path.join(__dirname, 'cli.bundle.js');
export const CODE_CACHE = `${BUNDLE}.cache`;

/** The line the build appends to the bundle; the cache starts with the same id, so a
 *  cache from another build is never used (V8 itself only checks the source's length). */
export function buildIdLine(id: string): string {
  return `\n// symposium build ${id}\n`;
}
const ID_LENGTH = 16;

/**
 * The bundle's text as the build writes it: already wrapped as a CommonJS module's
 * function, so that the launcher compiles the file's text as it was read. Wrapped at each
 * start, V8 flattened the joined text into a copy of all 470 KB first: ~216 more pages
 * touched at ~20 µs each here (`agent list` at 100 agents, see docs/benchmarks.md).
 */
export function wrapBundle(code: string): string {
  return Module.wrap(code);
}

/** Compiled the way the build compiled it when it made the cache: the same text, the same name. */
export function compileBundle(source: string, cachedData?: Buffer): vm.Script {
  return new vm.Script(source, { filename: BUNDLE, cachedData });
}

/** Runs the bundle's top level as a CommonJS module and returns its exports. */
export function runBundle(script: vm.Script): Record<string, unknown> {
  const fn = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} as Record<string, unknown> };
  fn.call(mod.exports, mod.exports, Module.createRequire(BUNDLE), mod, BUNDLE, __dirname);
  return mod.exports;
}

/** The V8 data in a cache file's bytes, if they were made for this very bundle source. */
export function cachedCode(source: string, file: Buffer): Buffer | undefined {
  if (file.length <= ID_LENGTH) return undefined;
  const id = file.subarray(0, ID_LENGTH).toString('latin1');
  return source.endsWith(buildIdLine(id)) ? file.subarray(ID_LENGTH) : undefined;
}

/** The bundle's text: ASCII only (the build makes it so), read as latin1 without UTF-8 decoding. */
export function readBundle(): string {
  return fs.readFileSync(BUNDLE, 'latin1');
}

function readCache(source: string): Buffer | undefined {
  try {
    return cachedCode(source, fs.readFileSync(CODE_CACHE));
  } catch {
    return undefined;
  }
}

export function launch(): void {
  let source: string;
  try {
    source = readBundle();
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./cli/main') as { run: () => void }).run();
    return;
  }
  const cli = runBundle(compileBundle(source, readCache(source))) as { run: () => void };
  cli.run();
}

/** For the build: the cache file's bytes, the id first. */
export function cacheFile(id: string, script: vm.Script): Buffer {
  if (id.length !== ID_LENGTH) throw new Error(`build id must be ${ID_LENGTH} characters`);
  return Buffer.concat([Buffer.from(id, 'latin1'), script.createCachedData()]);
}
