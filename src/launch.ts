import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import type * as V8 from 'node:v8';

// Starts a program of ours from its one-file bundle with V8's code cache, both made by the
// build (scripts/bundle.js): the CLI here (bin/symposium-mcp calls launch()), the
// supervisor through supervisor/launch.ts. Start-up is part of what a user waits for on
// every command, `attach` most of all: loaded as ~45 modules (resolved, read and compiled
// one by one) the CLI took ~26 ms before `attach` could connect; the bundle with its cache
// takes ~5. This file is the only one of ours that the CLI loads through Node's module
// loader (a second one cost ~1 ms more per command here), and it needs Node's built-in
// modules only, so that the supervisor's launcher may share it.

const ID_LENGTH = 16;

/** A bundle and its code cache, as the build writes them. */
export class Bundle {
  readonly cacheFile: string;
  /** What start() compiled: the build takes its code cache from it (scripts/train-spawn.js). */
  started: vm.Script | null = null;

  /**
   * `label`: the words of the build id line; `encoding`: how the launcher reads the file
   * (latin1 for a bundle the build made ASCII only: no UTF-8 decoding at every start).
   */
  constructor(
    readonly file: string,
    private readonly label: string,
    private readonly encoding: 'latin1' | 'utf8',
    cacheName = 'cache',
    private readonly outsideCompilationCache = false,
    /** Another way to read the file's text (null: it cannot), tried first. */
    private readonly readMapped: ((file: string) => string | null) | null = null,
  ) {
    this.cacheFile = `${file}.${cacheName}`;
  }

  /** The line the build appends to the bundle; the cache starts with the same id, so a
   *  cache from another build is never used (V8 itself only checks the source's length). */
  idLine(id: string): string {
    return `\n// ${this.label} ${id}\n`;
  }

  /**
   * The bundle's text as the build writes it: already wrapped as a CommonJS module's
   * function, so that the launcher compiles the file's text as it was read. Wrapped at each
   * start, V8 flattened the joined text into a copy of all of it first: for the CLI ~216
   * more pages touched at ~20 µs each here (`agent list` at 100 agents, see
   * docs/benchmarks.md); a supervisor kept the copy of its 1 MB until a full collection.
   */
  wrap(code: string): string {
    return Module.wrap(code);
  }

  read(): string {
    return this.readMapped?.(this.file) ?? fs.readFileSync(this.file, this.encoding);
  }

  /**
   * Compiled the way the build compiled it when it made the cache: the same text, the same
   * name. Outside V8's compilation cache for a bundle whose code is dropped while the
   * process lives on (the CLI that becomes a supervisor): that cache holds a script it
   * compiled, its source and what was compiled from it, until memory runs short (measured:
   * 1 MB per supervisor, after any number of collections). V8 takes a code cache only under
   * the flags it was made with: the build makes this one with the flag off too.
   */
  compile(source: string, cachedData?: Buffer): vm.Script {
    if (!this.outsideCompilationCache) return new vm.Script(source, { filename: this.file, cachedData });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const v8 = require('node:v8') as typeof V8; // the supervisor loads it anyway (its GC settling)
    v8.setFlagsFromString('--no-compilation-cache');
    try {
      return new vm.Script(source, { filename: this.file, cachedData });
    } finally {
      v8.setFlagsFromString('--compilation-cache');
    }
  }

  /** Runs the bundle's top level as a CommonJS module and returns its exports. */
  run<T>(script: vm.Script): T {
    const fn = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
    const mod = { exports: {} };
    fn.call(mod.exports, mod.exports, Module.createRequire(this.file), mod, this.file, path.dirname(this.file));
    return mod.exports as T;
  }

  /** The V8 data in a cache file's bytes, if they were made for this very bundle source. */
  cachedCode(source: string, file: Buffer): Buffer | undefined {
    if (file.length <= ID_LENGTH) return undefined;
    const id = file.subarray(0, ID_LENGTH).toString('latin1');
    return source.endsWith(this.idLine(id)) ? file.subarray(ID_LENGTH) : undefined;
  }

  /** For the build: the cache file's bytes, the id first. */
  cacheBytes(id: string, script: vm.Script): Buffer {
    if (id.length !== ID_LENGTH) throw new Error(`build id must be ${ID_LENGTH} characters`);
    return Buffer.concat([Buffer.from(id, 'latin1'), script.createCachedData()]);
  }

  /** The bundle's exports, run with its cache when it fits; null when there is no bundle. */
  start<T>(): T | null {
    let source: string;
    try {
      source = this.read();
    } catch {
      return null;
    }
    let cache: Buffer | undefined;
    try {
      cache = this.cachedCode(source, fs.readFileSync(this.cacheFile));
    } catch {
      cache = undefined;
    }
    this.started = this.compile(source, cache);
    return this.run<T>(this.started);
  }
}

export const CLI_BUNDLE = new Bundle(path.join(__dirname, 'cli.bundle.js'), 'symposium build', 'latin1');
/**
 * The CLI's cache for a CLI started under the supervisor's Node flags (by `agent spawn`'s
 * front end, native/spawn.c, to become the agent's supervisor): V8 takes a cache only
 * under the flags it was made with (--max-semi-space-size and --expose-gc count).
 */
export const CLI_BUNDLE_SUPERVISOR_FLAGS = new Bundle(CLI_BUNDLE.file, 'symposium build', 'latin1', 'supervisor-flags.cache', true);

/** Runs the CLI from its bundle; false when there is none (only `tsc` ran: the launcher then loads dist/cli/main.js). */
export function launch(): boolean {
  const bundle = process.execArgv.length === 0 ? CLI_BUNDLE : CLI_BUNDLE_SUPERVISOR_FLAGS;
  const cli = bundle.start<{ run: () => void }>();
  if (!cli) return false;
  cli.run();
  return true;
}

/** Runs the standby (src/standby/serve.ts) from the CLI's bundle, under the supervisor's
 *  flags; false without a bundle (a standby loaded module by module would save nothing). */
export function launchStandby(): boolean {
  const cli = CLI_BUNDLE_SUPERVISOR_FLAGS.start<{ standby: () => void }>();
  if (!cli) return false;
  cli.standby();
  return true;
}
