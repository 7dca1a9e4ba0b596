import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SUPERVISOR_NODE_FLAGS } from '../../src/held-env';
import { CLI_BUNDLE } from '../../src/launch';
import { SUPERVISOR_BUNDLE } from '../../src/supervisor/launch';
import { ROOT, Sandbox } from '../helpers/sandbox';

// How the CLI starts (src/launch.ts, scripts/bundle.js): from one bundled file with
// V8's code cache, else from its modules; a cache that does not fit is never used.

let sb: Sandbox;
afterEach(() => sb?.dispose());

/** Preloaded into the CLI: which of our files it loads, and what V8 said of the cache. */
const PROBE = `
const Module = require('module'), vm = require('vm'), fs = require('fs');
const seen = { files: [], builtins: [], cache: 'none' };
const load = Module._load;
Module._load = function (request, parent) {
  if (Module.isBuiltin(request)) seen.builtins.push(request.replace(/^node:/, ''));
  try { const f = Module._resolveFilename(request, parent); if (f.includes('/dist/') || f.includes('/node_modules/')) seen.files.push(f); } catch {}
  return load.apply(this, arguments);
};
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(code, opts) {
    super(code, opts);
    if (opts && opts.filename && opts.filename.endsWith('cli.bundle.js')) seen.cache = opts.cachedData ? (this.cachedDataRejected ? 'rejected' : 'taken') : 'none';
  }
};
process.on('exit', () => fs.writeFileSync(process.env.PROBE_OUT, JSON.stringify({ ...seen, everLoaded: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)) })));
`;

interface Probe {
  files: string[];
  /** Builtin modules required through Node's loader, without `node:`. */
  builtins: string[];
  cache: 'none' | 'taken' | 'rejected';
  /** Every builtin module loaded, Node's own requires included (process.moduleLoadList). */
  everLoaded: string[];
}

function probeRun(s: Sandbox, bin: string, args = ['agent', 'list']): { code: number; stdout: string; probe: Probe } {
  const preload = path.join(s.dir, 'probe.js');
  const out = path.join(s.dir, 'probe.json');
  fs.writeFileSync(preload, PROBE);
  fs.rmSync(out, { force: true });
  const r = spawnSync(bin, args, {
    env: { ...s.env, NODE_OPTIONS: `--require ${preload}`, PROBE_OUT: out },
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(r.stderr).toBe('');
  return { code: r.status ?? -1, stdout: r.stdout, probe: JSON.parse(fs.readFileSync(out, 'utf8')) as Probe };
}

/** A copy of the installed CLI (bin and dist, node_modules linked) that a test may break. */
function copyOfCli(s: Sandbox): { bin: string; dist: string } {
  const root = path.join(s.dir, 'copy');
  fs.mkdirSync(root);
  fs.cpSync(path.join(ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'bin'), path.join(root, 'bin'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'));
  return { bin: path.join(root, 'bin', 'symposium-mcp'), dist: path.join(root, 'dist') };
}

describe('CLI start-up', () => {
  it('runs from one bundled file with a code cache that V8 takes', () => {
    sb = new Sandbox();
    const { code, stdout, probe } = probeRun(sb, path.join(ROOT, 'bin', 'symposium-mcp'));
    expect(code).toBe(0);
    expect(stdout).toBe('No active agent sessions\n');
    expect(probe.cache).toBe('taken');
    // Of our files only the launcher goes through Node's module loader.
    expect(probe.files.map((f) => path.relative(ROOT, f))).toEqual(['dist/launch.js']);
    // Its answer goes out without process.stdout, which loads node:net and the streams for
    // a pipe (cli/output.ts), and without the socket's client (backends/pty/index.ts).
    expect(probe.everLoaded).not.toContain('net');
  });

  it('loads child_process, crypto and v8 only for the commands that use them', () => {
    sb = new Sandbox();
    const { code, stdout, probe } = probeRun(sb, path.join(ROOT, 'bin', 'symposium-mcp'), ['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(probe.cache).toBe('taken');
    expect(probe.builtins).not.toContain('child_process');
    expect(probe.builtins).not.toContain('crypto');
    expect(probe.builtins).not.toContain('v8');
    // (Loaded when used: every other test spawns, locks and waits through them.)
  });

  it('is ASCII only, as the launcher reads it (latin1)', () => {
    const bytes = fs.readFileSync(path.join(ROOT, 'dist', 'cli.bundle.js'));
    expect(bytes.findIndex((b) => b > 0x7f)).toBe(-1);
  });

  it('runs from its modules when there is no bundle', () => {
    sb = new Sandbox();
    const copy = copyOfCli(sb);
    fs.rmSync(path.join(copy.dist, 'cli.bundle.js'));
    const { code, stdout, probe } = probeRun(sb, copy.bin);
    expect(code).toBe(0);
    expect(stdout).toBe('No active agent sessions\n');
    expect(probe.files).toContain(path.join(copy.dist, 'cli', 'main.js'));
    expect(probe.files.some((f) => f.includes('/node_modules/commander/'))).toBe(true);
  });

  it('never gives V8 a cache made for another build, and runs when V8 refuses one', () => {
    sb = new Sandbox();
    const copy = copyOfCli(sb);
    const cacheFile = path.join(copy.dist, 'cli.bundle.js.cache');
    const good = fs.readFileSync(cacheFile);
    // Another build's id: not even offered to V8.
    fs.writeFileSync(cacheFile, Buffer.concat([Buffer.from('0123456789abcdef'), good.subarray(16)]));
    let r = probeRun(sb, copy.bin);
    expect([r.code, r.stdout, r.probe.cache]).toEqual([0, 'No active agent sessions\n', 'none']);
    // This build's id on data V8 cannot use: offered, refused, and the CLI compiles instead.
    fs.writeFileSync(cacheFile, Buffer.concat([good.subarray(0, 16), Buffer.alloc(4096, 7)]));
    r = probeRun(sb, copy.bin);
    expect([r.code, r.stdout, r.probe.cache]).toEqual([0, 'No active agent sessions\n', 'rejected']);
  });

  it("matches a cache to its bundle by the build id at the bundle end, the CLI's and the supervisor's", () => {
    for (const bundle of [CLI_BUNDLE, SUPERVISOR_BUNDLE]) {
      const source = `module.exports = 1;${bundle.idLine('00112233aabbccdd')}`;
      const data = Buffer.from('v8 data');
      expect(bundle.cachedCode(source, Buffer.concat([Buffer.from('00112233aabbccdd'), data]))).toEqual(data);
      expect(bundle.cachedCode(source, Buffer.concat([Buffer.from('00112233aabbccde'), data]))).toBeUndefined();
      expect(bundle.cachedCode(source, Buffer.from('00112233aabbccdd'))).toBeUndefined();
      expect(bundle.cachedCode('module.exports = 1;', Buffer.concat([Buffer.from('00112233aabbccdd'), data]))).toBeUndefined();
    }
    // One's cache is never taken for the other's bundle.
    const cli = `x;${CLI_BUNDLE.idLine('00112233aabbccdd')}`;
    expect(SUPERVISOR_BUNDLE.cachedCode(cli, Buffer.from('00112233aabbccddv8'))).toBeUndefined();
  });

  it('gives spawns caches from a whole training spawn, which a supervisor takes: more than loading compiles', () => {
    const launch = JSON.stringify(path.join(ROOT, 'dist', 'supervisor', 'launch.js'));
    const fresh = (code: string) => {
      const r = spawnSync(process.execPath, [...SUPERVISOR_NODE_FLAGS, '-e', code], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, number | boolean>;
    };
    const start = `const b = require(${launch}).SUPERVISOR_BUNDLE, fs = require('fs'), s = b.read();`;
    const built = fresh(`${start} const c = b.cachedCode(s, fs.readFileSync(b.cacheFile));
console.log(JSON.stringify({ taken: !!c && b.compile(s, c).cachedDataRejected === false, bytes: c ? c.length : 0 }));`);
    expect(built.taken).toBe(true);
    // What a cache made once the modules are loaded holds (the build's fallback): the
    // training's holds the spawn's functions too (512 against 729 KB when written).
    const loaded = fresh(`${start} const script = b.compile(s); b.run(script).loadAll(); console.log(JSON.stringify({ bytes: script.createCachedData().length }));`);
    expect(built.bytes as number).toBeGreaterThan(1.2 * (loaded.bytes as number));
  });
});
