#!/usr/bin/env node
'use strict';
// Bundles the compiled program into two files, each everything its process runs (node-pty,
// a native addon, aside): the CLI (dist/cli.bundle.js, with V8's code cache for it,
// dist/cli.bundle.js.cache; the launcher runs both through dist/launch.js) and the
// supervisor (dist/supervisor.bundle.js, with @xterm/addon-serialize's fixes applied here,
// serialize-patches.ts, and its own code cache; dist/supervisor/launch.js runs both). A supervisor reads its one file at start and nothing from the
// install directory later, so `npm install -g` of a new version under a running agent
// cannot mix two versions in it. Run after `tsc` by build (prepare, pretest, bench).
// Optional: without esbuild (an install without dev dependencies) each process loads its
// modules one by one, only slower; bundles left from an earlier build are removed then, so
// that they never run older code than dist/.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const launch = require(path.join(dist, 'launch.js'));
const SUPERVISOR_BUNDLE = path.join(dist, 'supervisor.bundle.js');
const HOOK_BUNDLE = path.join(dist, 'hook.bundle.js');
const SUPERVISOR_LAUNCH = path.join(dist, 'supervisor', 'launch.js');
const SUPERVISOR_CACHE = `${SUPERVISOR_BUNDLE}.cache`;

function writeAtomically(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * @xterm/addon-serialize with our fixes, its patched code given our helpers as `__sx`; a
 * fix that no longer applies (another version of the addon) fails the build.
 */
function patchSerialize() {
  const mirror = path.join(dist, 'supervisor', 'mirror');
  const { applyPatches } = require(path.join(mirror, 'serialize-patches.js'));
  const helpers = path.join(mirror, 'serialize-helpers.js');
  return {
    name: 'patch-addon-serialize',
    setup(build) {
      build.onLoad({ filter: /addon-serialize[\\/]lib[\\/]addon-serialize\.js$/ }, (args) => {
        const { source, missing } = applyPatches(fs.readFileSync(args.path, 'utf8'));
        if (missing.length > 0) throw new Error(`@xterm/addon-serialize: cannot apply: ${missing.join('; ')}`);
        return { contents: `var __sx=require(${JSON.stringify(helpers)}).SERIALIZE_HELPERS;${source}`, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

const COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // A native addon: loaded from node_modules where it was built. ws: only `web` needs it
  // (loaded when it starts); left out, the CLI's bundle is 130 KB smaller for every command.
  external: ['node-pty', 'ws'],
  write: false,
  logLevel: 'warning',
  // serialize-addon.ts resolves the addon's file only when it runs from its modules.
  logOverride: { 'require-resolve-not-external': 'silent' },
};

async function main() {
  fs.rmSync(launch.CODE_CACHE, { force: true });
  fs.rmSync(SUPERVISOR_CACHE, { force: true });
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    fs.rmSync(launch.BUNDLE, { force: true });
    fs.rmSync(SUPERVISOR_BUNDLE, { force: true });
    fs.rmSync(HOOK_BUNDLE, { force: true });
    console.warn('bundle: esbuild is not installed; the CLI and the supervisor will load their modules one by one (slower start-up).');
    return;
  }

  const supervisor = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(dist, 'supervisor', 'entry.js')],
    define: { SYMPOSIUM_BUNDLE: 'true' },
    plugins: [patchSerialize()],
  });
  supervisorWithCache(supervisor.outputFiles[0].text);

  // The agents' hook (`spawn --hooks`): one file, copied into each session's directory at its
  // start, so that an upgrade of the install cannot break the hooks of a running agent.
  const hook = await esbuild.build({ ...COMMON, entryPoints: [path.join(dist, 'hook', 'main.js')] });
  writeAtomically(HOOK_BUNDLE, hook.outputFiles[0].text);

  // The MCP SDK and zod stay out of the CLI's bundle: only the MCP server loads them (~200
  // ms), and every other command would read them.
  const cli = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(dist, 'cli', 'main.js')],
    external: [...COMMON.external, '@modelcontextprotocol/sdk', 'zod'],
  });
  const id = crypto.randomBytes(8).toString('hex');
  const source = cli.outputFiles[0].text + launch.buildIdLine(id);
  writeAtomically(launch.BUNDLE, source);

  // The cache holds every function of the bundle, compiled eagerly (V8 compiles most functions
  // only when first called, and a cache holds only what was compiled): measured on `attach`,
  // the CLI connected ~15 ms sooner with it than with a cache of the top level alone. V8 only
  // takes a cache made under the flags it runs with, so lazy compilation is turned back on
  // before the cache is made; a fresh Node then checks that it takes the cache.
  const v8 = require('node:v8');
  v8.setFlagsFromString('--no-lazy');
  let script = launch.compileBundle(source);
  v8.setFlagsFromString('--lazy');
  writeAtomically(launch.CODE_CACHE, launch.cacheFile(id, script));
  if (!cacheTaken()) {
    // The lazy way: what the top level and the command-line program compile.
    process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED = 'true';
    script = launch.compileBundle(source);
    launch.runBundle(script).buildProgram();
    writeAtomically(launch.CODE_CACHE, launch.cacheFile(id, script));
    if (!cacheTaken()) {
      fs.rmSync(launch.CODE_CACHE, { force: true });
      console.warn('bundle: this Node does not take the code cache; the CLI starts without it.');
    }
  }
}

/**
 * The supervisor's bundle, and its code cache (src/supervisor/launch.ts): made by a Node
 * running under the supervisor's own flags, once the bundle's modules are loaded, then
 * checked by a fresh one; left out when this Node does not take it.
 */
function supervisorWithCache(text) {
  const id = crypto.randomBytes(8).toString('hex');
  const launcher = require(SUPERVISOR_LAUNCH);
  writeAtomically(SUPERVISOR_BUNDLE, launcher.wrapSupervisor(text) + launcher.buildIdLine(id));
  const { SUPERVISOR_NODE_FLAGS } = require(path.join(dist, 'backends', 'pty', 'start-supervisor.js'));
  const l = `const l = require(${JSON.stringify(SUPERVISOR_LAUNCH)}), fs = require('fs'), s = fs.readFileSync(l.SUPERVISOR_BUNDLE, 'utf8');`;
  const make = `${l} const script = l.compileSupervisor(s); l.loadSupervisor(script).loadAll();
fs.writeFileSync(${JSON.stringify(`${SUPERVISOR_CACHE}.${process.pid}.tmp`)}, l.supervisorCacheFile(${JSON.stringify(id)}, script));
fs.renameSync(${JSON.stringify(`${SUPERVISOR_CACHE}.${process.pid}.tmp`)}, l.SUPERVISOR_CODE_CACHE); process.exit(0);`;
  const check = `${l} const c = l.cachedSupervisorCode(s, fs.readFileSync(l.SUPERVISOR_CODE_CACHE));
process.exit(c && l.compileSupervisor(s, c).cachedDataRejected === false ? 0 : 1);`;
  const node = (code) => require('node:child_process').spawnSync(process.execPath, [...SUPERVISOR_NODE_FLAGS, '-e', code], { stdio: 'inherit' }).status === 0;
  if (!node(make) || !node(check)) {
    fs.rmSync(SUPERVISOR_CACHE, { force: true });
    console.warn('bundle: this Node does not take the supervisor\'s code cache; supervisors start without it.');
  }
}

function cacheTaken() {
  const check = `const l = require(${JSON.stringify(path.join(dist, 'launch.js'))}), fs = require('fs');
const s = fs.readFileSync(l.BUNDLE, 'utf8'), c = l.cachedCode(s, fs.readFileSync(l.CODE_CACHE));
process.exit(c && l.compileBundle(s, c).cachedDataRejected === false ? 0 : 1);`;
  return require('node:child_process').spawnSync(process.execPath, ['-e', check], { stdio: 'inherit' }).status === 0;
}

main().catch((err) => {
  console.error(`bundle: ${err.message}`);
  process.exit(1);
});
