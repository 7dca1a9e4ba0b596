import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

// Starts the supervisor from its one-file bundle with V8's code cache, both made by the
// build (scripts/bundle.js); without them (only `tsc` ran) from its modules. Compiling the
// 1 MB bundle was ~60 ms of each spawn at load ~2, ~25 ms with the cache.
//
// The cache is made under the supervisor's own Node flags (V8 takes a cache only under the
// flags it was made with), after the bundle's modules were loaded, so it holds what every
// supervisor compiles at start and no more. The build writes the bundle already wrapped as
// a CommonJS module function: compiled as it is read, its 1 MB of source is held once (a
// wrapper added here made a second copy, which an idle supervisor kept until a full
// collection: 1.2 MiB more private memory per supervisor, measured).

export const SUPERVISOR_BUNDLE = path.join(__dirname, '..', 'supervisor.bundle.js');
export const SUPERVISOR_CODE_CACHE = `${SUPERVISOR_BUNDLE}.cache`;

/** The bundle's entry (entry.ts). */
export interface SupervisorEntry {
  run: () => void;
  loadAll: () => void;
}

/** The line the build appends to the bundle; the cache starts with the same id, so a cache
 *  of another build is never used (V8 itself checks only the source's length). */
export function buildIdLine(id: string): string {
  return `\n// symposium supervisor build ${id}\n`;
}
const ID_LENGTH = 16;

/** The bundle's text as the build writes it: its module code in CommonJS's wrapper. */
export function wrapSupervisor(code: string): string {
  return Module.wrap(code);
}

export function compileSupervisor(source: string, cachedData?: Buffer): vm.Script {
  return new vm.Script(source, { filename: SUPERVISOR_BUNDLE, cachedData });
}

/** Runs the bundle's top level as a CommonJS module (nothing starts yet) and returns its entry. */
export function loadSupervisor(script: vm.Script): SupervisorEntry {
  const fn = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
  const mod = { exports: {} };
  fn.call(mod.exports, mod.exports, Module.createRequire(SUPERVISOR_BUNDLE), mod, SUPERVISOR_BUNDLE, path.dirname(SUPERVISOR_BUNDLE));
  return mod.exports as SupervisorEntry;
}

/** The V8 data in a cache file's bytes, if they were made for this very bundle source. */
export function cachedSupervisorCode(source: string, file: Buffer): Buffer | undefined {
  if (file.length <= ID_LENGTH) return undefined;
  const id = file.subarray(0, ID_LENGTH).toString('latin1');
  return source.endsWith(buildIdLine(id)) ? file.subarray(ID_LENGTH) : undefined;
}

/** For the build: the cache file's bytes, the id first. */
export function supervisorCacheFile(id: string, script: vm.Script): Buffer {
  if (id.length !== ID_LENGTH) throw new Error(`build id must be ${ID_LENGTH} characters`);
  return Buffer.concat([Buffer.from(id, 'latin1'), script.createCachedData()]);
}

function readCache(source: string): Buffer | undefined {
  try {
    return cachedSupervisorCode(source, fs.readFileSync(SUPERVISOR_CODE_CACHE));
  } catch {
    return undefined;
  }
}

export function launchSupervisor(): void {
  let source: string;
  try {
    source = fs.readFileSync(SUPERVISOR_BUNDLE, 'utf8');
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('./main');
    return;
  }
  loadSupervisor(compileSupervisor(source, readCache(source))).run();
}

if (require.main === module) launchSupervisor();
