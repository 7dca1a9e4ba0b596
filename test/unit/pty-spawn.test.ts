import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The agent started without a fork (native/addon.c ptySpawn, installed in node-pty by
// src/supervisor/lifecycle/pty-spawn.ts): real ptys, real programs, each case run through
// node-pty's own fork first and then through ptySpawn, in a Node of its own (the install
// is for the whole process).
const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-ptyspawn-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// A program found only through the agent's own PATH, as execvp finds it there.
const bin = path.join(dir, 'bin');
fs.mkdirSync(bin);
fs.writeFileSync(
  path.join(bin, 'probe-agent'),
  `#!/bin/sh
tty
stty -a
# Read by the shell itself: a command it starts may read the shell's mask while dash has
# every signal blocked around that fork.
while read -r line; do case $line in SigBlk*|SigIgn*) echo "$line";; esac; done < /proc/$$/status
ps -o sid=,pgid=,tpgid= -p $$ | awk -v p=$$ '{ print "own session", $1 == p, "group", $2 == p, "foreground", $3 == p }'
pwd
echo "var=$PROBE_VAR"
ls -l /proc/$$/fd | awk 'NR > 1 { print $9, $11 }'
exit 7
`,
  { mode: 0o755 },
);
const workdir = path.join(dir, 'work');
fs.mkdirSync(workdir);

interface Run {
  out: string;
  exitCode: number;
  signal: number;
}

/** Runs the cases in a fresh Node: node-pty's fork, then ptySpawn installed (counting the forks it leaves to node-pty). */
function runCases(): { before: Run[]; after: Run[]; installed: boolean; replaced: boolean; forks: number[] } {
  const code = `
const pty = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'node-pty'))});
const { spawnWithoutFork } = require(${JSON.stringify(path.join(DIST, 'supervisor', 'lifecycle', 'pty-spawn.js'))});
const env = { ...process.env, PATH: ${JSON.stringify(`${bin}:/usr/bin:/bin`)}, PROBE_VAR: 'handed over' };
const cases = [
  ['probe-agent', [], {}],
  ['sh', ['-c', 'kill -TERM $$'], {}],
  ['no-such-program-here', [], {}],
  ['sh', ['-c', 'exit 3'], { PATH: ':/usr/bin:/bin' }], // an empty entry: execvp looks in the agent's directory
];
const run = ([file, args, more]) => new Promise((resolve) => {
  const p = pty.spawn(file, args, { cols: 91, rows: 33, cwd: ${JSON.stringify(workdir)}, env: { ...env, ...more }, encoding: null });
  const chunks = [];
  p.onData((d) => chunks.push(Buffer.from(d)));
  p.onExit((e) => setTimeout(() => resolve({ out: Buffer.concat(chunks).toString('utf8'), exitCode: e.exitCode, signal: e.signal ?? 0 }), 100));
});
const native = require.cache[Object.keys(require.cache).find((k) => /node-pty.*pty\\.node$/.test(k))].exports;
(async () => {
  const before = []; for (const c of cases) before.push(await run(c));
  const own = native.fork;
  let forked = 0;
  native.fork = function (...a) { forked++; return own.apply(this, a); };
  const counting = native.fork;
  const installed = spawnWithoutFork();
  const after = [], forks = [];
  for (const c of cases) { const n = forked; after.push(await run(c)); forks.push(forked - n); }
  process.stdout.write(JSON.stringify({ before, after, installed, replaced: native.fork !== counting, forks }));
  process.exit(0);
})();`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { before: Run[]; after: Run[]; installed: boolean; replaced: boolean; forks: number[] };
}

/** The terminal's number and the process ids differ from run to run. */
const same = (s: string) => s.replace(/\/dev\/pts\/\d+/g, '/dev/pts/N').replace(/\r/g, '');

describe('the agent started without a fork', () => {
  it('gets the terminal, session, signals, directory, environment and exit node-pty\'s fork gives it', () => {
    const { before, after, installed, replaced, forks } = runCases();
    expect(installed).toBe(true);
    expect(replaced).toBe(true);
    // node-pty forked only where ptySpawn could not: a program it does not find, a PATH it
    // could read otherwise than execvp (the rest ran without a fork).
    expect(forks).toEqual([0, 0, 1, 1]);
    const [probe, signalled, missing, emptyEntry] = after;
    // What the probe saw, checked for itself...
    const text = same(probe!.out);
    expect(text).toMatch(/^\/dev\/pts\/N\n/);
    expect(text).toContain('rows 33; columns 91;');
    expect(text).toMatch(/ -iutf8\b/); // node-pty's for encoding null (as the supervisor asks)
    expect(text).toMatch(/SigBlk:\s+0+\n/); // nothing blocked
    expect(text).toMatch(/SigIgn:\s+0+\n/); // nothing ignored (Node ignores SIGPIPE)
    expect(text).toContain('own session 1 group 1 foreground 1');
    expect(text).toContain(`${workdir}\nvar=handed over\n`);
    for (const fd of [0, 1, 2]) expect(text).toContain(`\n${fd} /dev/pts/N\n`);
    expect(text).not.toMatch(/ptmx/); // the master is not the agent's
    expect(probe!.exitCode).toBe(7);
    // ...and the same as under node-pty's own fork.
    expect(text).toBe(same(before[0]!.out));
    expect(signalled).toEqual({ out: '', exitCode: 0, signal: 15 });
    expect(signalled).toEqual(before[1]);
    // A program it does not find: node-pty's fork runs, and fails as it always did.
    expect(missing!.exitCode).toBe(1);
    expect(missing!.out).toMatch(/execvp\(3\) failed/);
    expect(missing).toEqual(before[2]);
    expect(emptyEntry).toEqual({ out: '', exitCode: 3, signal: 0 });
    expect(emptyEntry).toEqual(before[3]);
  });

  it('is the addon\'s ptySpawn: a pty, the agent on it, its exit code on the main thread', async () => {
    const m = { exports: {} as Record<string, unknown> };
    process.dlopen(m, path.join(DIST, 'symposium-addon.node'));
    const ptySpawn = m.exports.ptySpawn as (...a: unknown[]) => { fd: number; pid: number; pty: string } | number;
    let exited: [number, number] | null = null;
    const onexit = (code: number, signal: number) => (exited = [code, signal]);
    const r = ptySpawn('sh', ['-c', 'printf ready; read line; exit 5'], [`PATH=${process.env.PATH}`], workdir, 80, 24, true, onexit);
    expect(typeof r).toBe('object');
    const { fd, pid, pty: name } = r as { fd: number; pid: number; pty: string };
    expect(name).toMatch(/^\/dev\/pts\/\d+$/);
    expect(pid).toBeGreaterThan(0);
    try {
      expect(fs.fstatSync(fd).isCharacterDevice()).toBe(true);
      const deadline = Date.now() + 10_000;
      let seen = '';
      const buf = Buffer.alloc(256);
      while (!seen.includes('ready') && Date.now() < deadline) {
        try {
          seen += buf.subarray(0, fs.readSync(fd, buf)).toString();
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err; // the master is non-blocking
          await new Promise((res) => setTimeout(res, 20));
        }
      }
      expect(seen).toBe('ready');
      expect(exited).toBeNull(); // it waits for its line
      fs.writeSync(fd, 'go\r');
      while (!exited && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      expect(exited).toEqual([5, 0]);
    } finally {
      fs.closeSync(fd);
    }
    // What it cannot do, as an error number and nothing started.
    expect(ptySpawn('sh', [], [], workdir, 0, 24, true, onexit)).toBe(-os.constants.errno.EINVAL);
    expect(ptySpawn('no-such-program-here', [], ['PATH=/nowhere'], workdir, 80, 24, true, onexit)).toBe(-os.constants.errno.ENOENT);
    expect(ptySpawn('sh', [], ['PATH=/bin:/usr/bin'], path.join(dir, 'no-such-dir'), 80, 24, true, onexit)).toBe(-os.constants.errno.ENOENT);
  });
});
