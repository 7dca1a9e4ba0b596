import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SUPERVISOR_NODE_FLAGS } from '../../src/held-env';
import { pidAlive } from '../../src/sys/proc';
import { waitFor } from '../helpers/sandbox';

// A copy of the standby (src/standby/copy.ts over native/addon.c's forkDetached): a real
// Node under the supervisor's flags forks real copies, which must run JavaScript, timers,
// a pty and files as any process, have their own pid, and end by every way out Node has
// (the end of the loop, process.exit, an exception nothing handles): without Node's
// worker threads, Node's own teardown would wait for them for ever.

const DIST = path.join(__dirname, '..', '..', 'dist');
const ADDON = path.join(DIST, 'symposium-addon.node');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-copy-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SCRIPT = `
const fs = require('fs');
const { loadAddon, copyCalls } = require(${JSON.stringify(path.join(DIST, 'sys', 'native-addon.js'))});
const { forkStandby } = require(${JSON.stringify(path.join(DIST, 'standby', 'copy.js'))});
const pty = require('node-pty');
const out = process.argv[1];
if (!loadAddon(${JSON.stringify(ADDON)}) || !copyCalls()) throw new Error('no addon');
const parent = process.pid;
for (const mode of ['natural', 'exit', 'throw', 'code']) {
  const pid = forkStandby(copyCalls());
  if (pid < 0) throw new Error('fork ' + pid);
  if (pid > 0) { fs.appendFileSync(out + '/forked', mode + ' ' + pid + '\\n'); continue; }
  // The copy: its own pid, a timer, a pty, then its way out.
  const write = (line) => fs.appendFileSync(out + '/' + mode, line + '\\n');
  write('pid ' + process.pid + ' ' + fs.readlinkSync('/proc/self') + ' ' + (process.pid !== parent));
  process.on('exit', (code) => write('exit ' + code));
  const p = pty.spawn('/bin/echo', ['from-pty'], {});
  let seen = '';
  p.onData((d) => (seen += d));
  p.onExit(() => setTimeout(() => {
    write('pty ' + seen.trim());
    if (mode === 'exit') process.exit(3);
    if (mode === 'throw') throw new Error('thrown in a copy');
    if (mode === 'code') process.exitCode = 5;
  }, 50));
  break;
}
`;

describe.skipIf(!fs.existsSync(ADDON))('a copy of the standby', () => {
  it('runs timers, a pty and files, has its own pid, and ends by every way out with its code', async () => {
    const r = spawnSync(process.execPath, [...SUPERVISOR_NODE_FLAGS, '-e', SCRIPT, dir], { encoding: 'utf8', timeout: 30_000, cwd: path.join(__dirname, '..', '..') });
    const forkedFile = path.join(dir, 'forked');
    const forked = fs.existsSync(forkedFile) ? fs.readFileSync(forkedFile, 'utf8').trim().split('\n').map((l) => l.split(' ')) : [];
    try {
      expect(r.status, r.stderr).toBe(0);
      expect(forked.map((f) => f[0])).toEqual(['natural', 'exit', 'throw', 'code']);
      // Every copy ends (none hangs in Node's teardown).
      for (const [, pid] of forked) await waitFor(() => !pidAlive(Number(pid)), 10_000);
    } finally {
      for (const [, pid] of forked) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone, as it should be */
        }
      }
    }
    const expected: Record<string, string> = { natural: 'exit 0', exit: 'exit 3', throw: 'exit 1', code: 'exit 5' };
    for (const [mode, pid] of forked) {
      const lines = fs.readFileSync(path.join(dir, mode!), 'utf8').trim().split('\n');
      expect(lines, mode).toEqual([`pid ${pid} ${pid} true`, 'pty from-pty', expected[mode!]]);
    }
    // The exception was printed, as Node prints one (the copies share the parent's stderr).
    expect(r.stderr).toContain('thrown in a copy');
  });
});
