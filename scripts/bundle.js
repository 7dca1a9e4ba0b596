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
const { writeAtomically } = require('./write-atomically');

const dist = path.join(__dirname, '..', 'dist');
const { CLI_BUNDLE: cliBundle } = require(path.join(dist, 'launch.js'));
const SUPERVISOR_BUNDLE = path.join(dist, 'supervisor.bundle.js');
const HOOK_BUNDLE = path.join(dist, 'hook.bundle.js');
const SUPERVISOR_LAUNCH = path.join(dist, 'supervisor', 'launch.js');
const SUPERVISOR_CACHE = `${SUPERVISOR_BUNDLE}.cache`;

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

/**
 * Each of our modules' `import * as x` shares one namespace per imported module
 * (src/import-star.ts) instead of TypeScript's fresh copy in every module that imports it:
 * tsc emits `__importStar(require("node:fs"))`, rewritten here to make that copy once.
 * Measured in an idle supervisor: 0.7 MB less heap in use (6.75 -> 6.04 MB; its 24
 * `import * as fs` were 24 copies of fs's 104 properties, each a getter closure).
 */
const IMPORT_STAR_CALL = /\b__importStar\(require\(("[^"]+")\)\)/g;
function sharedImportStar() {
  const helper = JSON.stringify(path.join(dist, 'import-star.js'));
  return {
    name: 'shared-import-star',
    setup(build) {
      build.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (args) => {
        if (!args.path.startsWith(dist + path.sep)) return undefined; // ours only
        const source = fs.readFileSync(args.path, 'utf8');
        if (!source.includes('__importStar(require(')) return undefined;
        return {
          contents: source.replace(IMPORT_STAR_CALL, (_, id) => `require(${helper}).importStarOnce(require(${id}), __importStar)`),
          loader: 'js',
          resolveDir: path.dirname(args.path),
        };
      });
    },
  };
}

/**
 * The long-lived processes' bundles (supervisor, hook) in their smallest exact form. A
 * supervisor holds its whole source in V8's heap for as long as it runs (functions compile
 * lazily from it), and one character outside ASCII (a spinner glyph in a regular expression,
 * an ellipsis in a comment) makes V8 store all of it at two bytes a character: measured, 1.9
 * MB of an idle supervisor's heap for a 0.97 MB file. Comments and blanks gone and every
 * other character escaped, it is 0.62 MB at one byte each: idle private memory fell by
 * 1.3 MB (14.7 -> 13.4 MB median of 7, before V8's memory reducer runs; 12.4 -> 11.2 after).
 * Names are kept, so that a stack trace in the log still reads.
 */
const SMALL = { minifyWhitespace: true, minifySyntax: true, legalComments: 'none', charset: 'ascii' };

/** esbuild keeps regular expression literals as written: their characters outside ASCII
 *  become \u escapes, which mean the same there (and in comments, strings, templates). */
function asciiOnly(code) {
  return code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
  fs.rmSync(cliBundle.cacheFile, { force: true });
  fs.rmSync(SUPERVISOR_CACHE, { force: true });
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    fs.rmSync(cliBundle.file, { force: true });
    fs.rmSync(SUPERVISOR_BUNDLE, { force: true });
    fs.rmSync(HOOK_BUNDLE, { force: true });
    console.warn('bundle: esbuild is not installed; the CLI and the supervisor will load their modules one by one (slower start-up).');
    return;
  }

  const supervisor = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(dist, 'supervisor', 'entry.js')],
    define: { SYMPOSIUM_BUNDLE: 'true' },
    plugins: [patchSerialize(), sharedImportStar()],
    ...SMALL,
  });
  const supervisorId = writeSupervisorBundle(asciiOnly(supervisor.outputFiles[0].text));

  // The agents' hook (`spawn --hooks`): one file, copied into each session's directory at its
  // start, so that an upgrade of the install cannot break the hooks of a running agent.
  const hook = await esbuild.build({ ...COMMON, ...SMALL, entryPoints: [path.join(dist, 'hook', 'main.js')], plugins: [sharedImportStar()] });
  writeAtomically(HOOK_BUNDLE, asciiOnly(hook.outputFiles[0].text));

  // The MCP SDK and zod stay out of the CLI's bundle: only the MCP server loads them (~200
  // ms), and every other command would read them.
  const cli = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(dist, 'cli', 'main.js')],
    external: [...COMMON.external, '@modelcontextprotocol/sdk', 'zod'],
    // Without comments and indentation the file is 470 KB instead of 750, read on every
    // command (with latin1, below: 6 ms instead of 15, load ~8). Names stay (commander's
    // errors use constructor names, and a SYMPOSIUM_DEBUG stack still names functions).
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [lazyBuiltins(), sharedImportStar()],
  });
  const id = crypto.randomBytes(8).toString('hex');
  const source = cliBundle.wrap(asciiOnly(cli.outputFiles[0].text)) + cliBundle.idLine(id);
  writeAtomically(cliBundle.file, source);

  // The cache holds what the top level and the common commands compiled (V8 compiles a
  // function when it is first called, and a cache holds only what was compiled; see
  // trainCli). Against a cache of every function (compiled eagerly, 1 MB), this one (300
  // KB) is taken in 6 ms instead of 20 (load ~10), and `attach` used less CPU until it
  // connected, functions compiled on the way included: 178 ms instead of 201 from the
  // process start (median of 10, load ~38). V8 only takes a cache made under the flags it
  // runs with; a fresh Node checks that it does.
  const script = await trainCli(source);
  writeAtomically(cliBundle.cacheFile, cliBundle.cacheBytes(id, script));
  if (!cacheTaken()) {
    fs.rmSync(cliBundle.cacheFile, { force: true });
    console.warn('bundle: this Node does not take the code cache; the CLI starts without it.');
  }
  if (!trainSpawn(id, supervisorId)) console.warn('bundle: the training spawn failed; the caches for spawns hold what loading compiles only.');
  // Each cache a fresh Node does not take is made again the way that needs no spawn.
  let taken = spawnCachesTaken();
  if (!taken.supervisor) supervisorCacheAtLoad(supervisorId);
  if (!taken.cli) cliCacheUnderSupervisorFlags(id);
  if (!taken.supervisor || !taken.cli) taken = spawnCachesTaken();
  if (!taken.cli) console.warn('bundle: this Node does not take the CLI\'s code cache under the supervisor\'s flags; spawns start without it.');
  if (!taken.supervisor) console.warn('bundle: this Node does not take the supervisor\'s code cache; supervisors start without it.');
}

/**
 * Both caches a spawn uses, from one training run of it (scripts/train-spawn.js): the CLI's
 * under the supervisor's flags and the supervisor's. Each then holds what a spawn compiles
 * up to its agent's first second, which every copy of the standby would otherwise compile
 * on its own (docs/benchmarks.md, round twelve). False when the run did not write them (no
 * pty here, or it did not end in time).
 */
function trainSpawn(cliId, supervisorId) {
  const { CLI_BUNDLE_SUPERVISOR_FLAGS: flagsBundle } = require(path.join(dist, 'launch.js'));
  const { SUPERVISOR_NODE_FLAGS } = require(path.join(dist, 'held-env.js'));
  const os = require('node:os');
  fs.rmSync(flagsBundle.cacheFile, { force: true });
  fs.rmSync(SUPERVISOR_CACHE, { force: true });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'symposium-bundle-'));
  const env = {
    ...process.env,
    SYMPOSIUM_HOME: path.join(home, 'home'),
    SYMPOSIUM_RUNTIME_DIR: path.join(home, 'run'),
    SYMPOSIUM_SPAWN_REPORT_FD: '3',
    SYMPOSIUM_SYSTEMD_SCOPE: '0',
    MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true',
    TERM: 'xterm-256color',
  };
  try {
    const run = require('node:child_process').spawnSync(
      process.execPath,
      [...SUPERVISOR_NODE_FLAGS, path.join(__dirname, 'train-spawn.js'), cliId, supervisorId, home],
      { cwd: home, env, stdio: ['ignore', 'ignore', 'ignore', 'pipe'], timeout: TRAINING_TIMEOUT_MS, killSignal: 'SIGKILL' },
    );
    return run.status === 0 && fs.existsSync(flagsBundle.cacheFile) && fs.existsSync(SUPERVISOR_CACHE);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** The training's own limit is 30 s; past this the build stops waiting for it. */
const TRAINING_TIMEOUT_MS = 40_000;

/** Whether a fresh Node under the supervisor's flags takes each cache a spawn uses; one it does not take is removed. */
function spawnCachesTaken() {
  const { SUPERVISOR_NODE_FLAGS } = require(path.join(dist, 'held-env.js'));
  const launchJs = JSON.stringify(path.join(dist, 'launch.js'));
  const flagsBundle = require(path.join(dist, 'launch.js')).CLI_BUNDLE_SUPERVISOR_FLAGS;
  const taken = (file, bundleExpr) => {
    if (fs.existsSync(file) && freshNode(SUPERVISOR_NODE_FLAGS, cacheCheckCode(bundleExpr))) return true;
    fs.rmSync(file, { force: true });
    return false;
  };
  return {
    cli: taken(flagsBundle.cacheFile, `require(${launchJs}).CLI_BUNDLE_SUPERVISOR_FLAGS`),
    supervisor: taken(SUPERVISOR_CACHE, `require(${JSON.stringify(SUPERVISOR_LAUNCH)}).SUPERVISOR_BUNDLE`),
  };
}

/**
 * The CLI's cache for `agent spawn`'s front end, which starts the CLI under the
 * supervisor's flags (src/launch.ts): made by a Node under those flags, trained on what a
 * spawn compiles before it starts the agent (its options refused at the working
 * directory), then checked by a fresh one.
 */
function cliCacheUnderSupervisorFlags(id) {
  const launchJs = JSON.stringify(path.join(dist, 'launch.js'));
  const flagsBundle = require(path.join(dist, 'launch.js')).CLI_BUNDLE_SUPERVISOR_FLAGS;
  fs.rmSync(flagsBundle.cacheFile, { force: true });
  const { SUPERVISOR_NODE_FLAGS } = require(path.join(dist, 'held-env.js'));
  const os = require('node:os');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'symposium-bundle-'));
  const tmp = `${flagsBundle.cacheFile}.${process.pid}.tmp`;
  const make = `const b = require(${launchJs}).CLI_BUNDLE_SUPERVISOR_FLAGS, fs = require('fs'), s = b.read(), script = b.compile(s), cli = b.run(script);
(async () => {
  for (const argv of [['--help'], ['agent', 'list'], ['agent', 'spawn', '--uuid', 'x', '--workdir', ${JSON.stringify(path.join(home, 'none'))}, '--', 'true']]) await cli.main(['node', 'symposium-mcp', ...argv]);
  require('v8').setFlagsFromString('--no-compilation-cache'); // as it is when the cache is taken (src/launch.ts)
  fs.writeFileSync(${JSON.stringify(tmp)}, b.cacheBytes(${JSON.stringify(id)}, script));
  fs.renameSync(${JSON.stringify(tmp)}, b.cacheFile);
  process.exit(0);
})();`;
  const env = { ...process.env, SYMPOSIUM_HOME: path.join(home, 'home'), SYMPOSIUM_RUNTIME_DIR: path.join(home, 'run'), MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' };
  try {
    if (!freshNode(SUPERVISOR_NODE_FLAGS, make, { stdio: 'ignore', env })) fs.rmSync(flagsBundle.cacheFile, { force: true });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/**
 * Builtins the CLI's top level would load for commands that never use them, loaded on
 * first use instead: child_process (to start something: spawn, attach's stty, tmux),
 * crypto (nothing common any more) and v8 (`wait --text`). Each alone in a
 * fresh Node: crypto 5-6 ms, child_process 5 (1.5 once net is loaded, as it is for a
 * terminal or a pipe), v8 3.5-4 (median of 12, load ~8). Each becomes a module whose
 * properties load the real one when read: the compiled code only reads properties of
 * what it requires (`(0, child_process_1.spawn)(...)`), and `__esModule` makes
 * TypeScript's import helpers return it as it is.
 */
const LAZY_BUILTINS = /^(?:node:)?(child_process|crypto|v8)$/;
function lazyBuiltins() {
  return {
    name: 'lazy-builtins',
    setup(build) {
      build.onResolve({ filter: LAZY_BUILTINS }, (args) =>
        args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: LAZY_BUILTINS.exec(args.path)[1], namespace: 'lazy-builtin' },
      );
      build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
        loader: 'js',
        resolveDir: dist,
        contents: `let real;
const load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}));
module.exports = new Proxy({}, { get: (_, key) => (key === '__esModule' ? true : key === 'default' ? load() : load()[key]) });`,
      }));
    },
  };
}

/**
 * esbuild escapes what is beyond ASCII in strings and names, not in regular expression
 * literals (the agents' title patterns); escaped there too (`\uXXXX` is the same code
 * unit), the file is ASCII: launch.ts reads it as latin1, without UTF-8 decoding, and V8
 * holds it as one-byte text, half the size.
 */
function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Compiles the bundle and runs what the common commands run, so that the code cache holds
 * their functions: the top level, `--help`, `agent list` and `agent attach` of an unknown
 * id (the store's read and reconcile path), in a throw-away home; output is dropped.
 */
async function trainCli(source) {
  const os = require('node:os');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'symposium-bundle-'));
  const saved = { ...process.env };
  const out = process.stdout.write;
  const err = process.stderr.write;
  try {
    Object.assign(process.env, {
      SYMPOSIUM_HOME: path.join(home, 'home'),
      SYMPOSIUM_RUNTIME_DIR: path.join(home, 'run'),
      MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true',
    });
    const script = cliBundle.compile(source);
    const cli = cliBundle.run(script);
    process.stdout.write = process.stderr.write = () => true;
    for (const argv of [['--help'], ['agent', 'list'], ['agent', 'list', '--json'], ['agent', 'attach', 'no-such-agent']]) {
      await cli.main(['node', 'symposium-mcp', ...argv]);
    }
    return script;
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** The supervisor's bundle (its cache comes later: trainSpawn); returns its build id. */
function writeSupervisorBundle(text) {
  const id = crypto.randomBytes(8).toString('hex');
  const bundle = require(SUPERVISOR_LAUNCH).SUPERVISOR_BUNDLE;
  writeAtomically(SUPERVISOR_BUNDLE, bundle.wrap(text) + bundle.idLine(id));
  return id;
}

/**
 * The supervisor's cache when the training spawn cannot run: made by a Node under the
 * supervisor's own flags once the bundle's modules are loaded (what every supervisor
 * compiles at start).
 */
function supervisorCacheAtLoad(id) {
  const { SUPERVISOR_NODE_FLAGS } = require(path.join(dist, 'held-env.js'));
  const l = `const b = require(${JSON.stringify(SUPERVISOR_LAUNCH)}).SUPERVISOR_BUNDLE, fs = require('fs'), s = b.read();`;
  const make = `${l} const script = b.compile(s); b.run(script).loadAll();
fs.writeFileSync(${JSON.stringify(`${SUPERVISOR_CACHE}.${process.pid}.tmp`)}, b.cacheBytes(${JSON.stringify(id)}, script));
fs.renameSync(${JSON.stringify(`${SUPERVISOR_CACHE}.${process.pid}.tmp`)}, b.cacheFile); process.exit(0);`;
  if (!freshNode(SUPERVISOR_NODE_FLAGS, make)) fs.rmSync(SUPERVISOR_CACHE, { force: true });
}

function cacheTaken() {
  return freshNode([], cacheCheckCode(`require(${JSON.stringify(path.join(dist, 'launch.js'))}).CLI_BUNDLE`));
}

/** Code for a fresh Node that exits 0 when V8 takes the cache file of the bundle `bundleExpr` names. */
function cacheCheckCode(bundleExpr) {
  return `const b = ${bundleExpr}, fs = require('fs'), s = b.read(), c = b.cachedCode(s, fs.readFileSync(b.cacheFile));
process.exit(c && b.compile(s, c).cachedDataRejected === false ? 0 : 1);`;
}

/** Runs `code` in a fresh Node under `flags`; true when it exits 0. */
function freshNode(flags, code, opts = {}) {
  return require('node:child_process').spawnSync(process.execPath, [...flags, '-e', code], { stdio: 'inherit', ...opts }).status === 0;
}

main().catch((err) => {
  console.error(`bundle: ${err.message}`);
  process.exit(1);
});
