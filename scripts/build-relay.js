#!/usr/bin/env node
'use strict';
// Builds native/relay.c into dist/symposium-relay and native/addon.c into
// dist/symposium-addon.node (run by `npm install`, build and test).
// Optional: without a C compiler the supervisor relays keys in Node, a little slower, and
// this says so instead of failing the install.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

// node-pty's build needs g++; `-x c` lets it compile C when no cc is installed.
const compilers = [...(process.env.CC ? [[process.env.CC]] : []), ['cc'], ['gcc'], ['clang'], ['g++', '-x', 'c']];

function mtime(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

/** Compiles `src` into `out` unless it is newer; on failure removes `out` and returns why. */
function build(src, out, flags) {
  // The front ends include native/places.h.
  const inputs = [src, __filename, path.join(root, 'native', 'places.h')];
  if (inputs.every((p) => mtime(out) >= mtime(p))) return null;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  let r = null;
  for (const [cc, ...lang] of compilers) {
    r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', ...flags, ...lang, '-o', tmp, src], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status === 0 || !(r.error && r.error.code === 'ENOENT')) break;
  }
  if (r.status !== 0) {
    // An older build must not stay: it could speak an older frame format.
    for (const p of [tmp, out]) {
      try {
        fs.unlinkSync(p);
      } catch {
        /* not there */
      }
    }
    return r.error ? `no C compiler: ${r.error.message}` : `the compiler exited with ${r.status}`;
  }
  fs.renameSync(tmp, out);
  return null;
}

const relayFailed = build(path.join(root, 'native', 'relay.c'), path.join(root, 'dist', 'symposium-relay'), []);
if (relayFailed) process.stderr.write(`symposium-mcp: the native key relay was not built (${relayFailed}); attach relays keys in Node instead.\n`);
// The addon (native/addon.c): without it, a supervisor keeps the holes a burst of output
// leaves in its heap and starts a helper process to tell who connected at every attach,
// and `attach` runs stty.
const addonFailed = build(path.join(root, 'native', 'addon.c'), path.join(root, 'dist', 'symposium-addon.node'), ['-shared', '-fPIC']);
if (addonFailed) process.stderr.write(`symposium-mcp: the native addon was not built (${addonFailed}); supervisors keep some freed memory and attach takes a little longer.\n`);
// The native front ends of `agent attach` and `agent spawn` (bin/symposium-mcp starts
// them): without them those verbs start Node like every other, only later.
for (const verb of ['attach', 'spawn']) {
  if (!fs.existsSync(path.join(root, 'native', `${verb}.c`))) continue; // a checkout older than it
  const failed = build(path.join(root, 'native', `${verb}.c`), path.join(root, 'dist', `symposium-${verb}`), []);
  if (failed) process.stderr.write(`symposium-mcp: the native front end of \`agent ${verb}\` was not built (${failed}); it starts Node instead.\n`);
}
