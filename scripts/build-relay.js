#!/usr/bin/env node
'use strict';
// Builds native/relay.c into dist/symposium-relay (run by `npm install`, build and test).
// Optional: without a C compiler the supervisor relays keys in Node, a little slower, and
// this says so instead of failing the install.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const src = path.join(root, 'native', 'relay.c');
const out = path.join(root, 'dist', 'symposium-relay');

function mtime(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

if (mtime(out) >= mtime(src) && mtime(out) >= mtime(__filename)) process.exit(0);
fs.mkdirSync(path.dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
// node-pty's build needs g++; `-x c` lets it compile C when no cc is installed.
const compilers = [...(process.env.CC ? [[process.env.CC]] : []), ['cc'], ['gcc'], ['clang'], ['g++', '-x', 'c']];
let r = null;
for (const [cc, ...lang] of compilers) {
  r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', ...lang, '-o', tmp, src], { stdio: ['ignore', 'inherit', 'inherit'] });
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
  const why = r.error ? `no C compiler: ${r.error.message}` : `the compiler exited with ${r.status}`;
  process.stderr.write(`symposium-mcp: the native key relay was not built (${why}); attach relays keys in Node instead.\n`);
  process.exit(0);
}
fs.renameSync(tmp, out);
