#!/usr/bin/env node
'use strict';
// Bundles the compiled CLI (dist/cli/main.js and what it loads, node-pty aside) into one file,
// dist/cli.bundle.js, and makes V8's code cache for it, dist/cli.bundle.js.cache; the
// launcher runs both through dist/launch.js. Run after `tsc` by build, prepare, pretest and
// bench. Optional: without esbuild (an install without dev dependencies) the launcher loads
// the modules one by one, only slower; a bundle left from an earlier build is removed then,
// so that it never runs older code than dist/.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const launch = require(path.join(dist, 'launch.js'));

function writeAtomically(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

fs.rmSync(launch.CODE_CACHE, { force: true });
let esbuild;
try {
  esbuild = require('esbuild');
} catch {
  fs.rmSync(launch.BUNDLE, { force: true });
  console.warn('bundle-cli: esbuild is not installed; the CLI will load its modules one by one (slower start-up).');
  process.exit(0);
}

const result = esbuild.buildSync({
  entryPoints: [path.join(dist, 'cli', 'main.js')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // A native addon: loaded from node_modules where it was built.
  external: ['node-pty'],
  write: false,
  logLevel: 'warning',
});
const id = crypto.randomBytes(8).toString('hex');
const source = result.outputFiles[0].text + launch.buildIdLine(id);
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
    console.warn('bundle-cli: this Node does not take the code cache; the CLI starts without it.');
  }
}

function cacheTaken() {
  const check = `const l = require(${JSON.stringify(path.join(dist, 'launch.js'))}), fs = require('fs');
const s = fs.readFileSync(l.BUNDLE, 'utf8'), c = l.cachedCode(s, fs.readFileSync(l.CODE_CACHE));
process.exit(c && l.compileBundle(s, c).cachedDataRejected === false ? 0 : 1);`;
  return require('node:child_process').spawnSync(process.execPath, ['-e', check], { stdio: 'inherit' }).status === 0;
}
