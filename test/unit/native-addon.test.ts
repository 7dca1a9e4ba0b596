import { spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pty from 'node-pty';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon, mallocTrim, mappedText, receiveWithDescriptors, socketPeer, terminalRawOutput } from '../../src/sys/native-addon';
import { helperPeer, peerCredentials } from '../../src/supervisor/native/peer-credentials';

// The addon the build makes from native/addon.c (scripts/build-relay.js), and
// the relay whose "peer" mode answers without it.
const DIST = path.join(__dirname, '..', '..', 'dist');
const BUILT = path.join(DIST, 'symposium-addon.node');
const RELAY = path.join(DIST, 'symposium-relay');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-addon-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A real Unix socket connection: the server's side of it, and both ends to close. */
async function connection(): Promise<{ accepted: net.Socket; close: () => void }> {
  const file = path.join(dir, `s${Math.random().toString(36).slice(2)}.sock`);
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(file, r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect(file);
  const s = await accepted;
  return {
    accepted: s,
    close: () => {
      client.destroy();
      s.destroy();
      server.close();
    },
  };
}

const fdOf = (s: net.Socket): number => (s as unknown as { _handle: { fd: number } })._handle.fd;
const me = () => ({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });

describe('the native addon', () => {
  it('does nothing until it is loaded, and a missing addon is no error', async () => {
    expect(loadAddon(path.join(__dirname, 'no-such-addon.node'))).toBe(false);
    expect(mallocTrim()).toBe(false);
    expect(socketPeer(0)).toBeNull();
    expect(terminalRawOutput(0)).toBeNull();
    // Without the addon the native helper tells who connected.
    const c = await connection();
    try {
      await expect(peerCredentials(RELAY, c.accepted)).resolves.toEqual(me());
      await expect(peerCredentials(null, c.accepted)).rejects.toThrow(/neither the native addon nor the native helper/);
    } finally {
      c.close();
    }
  });

  it('gives freed memory back once the built addon is loaded', () => {
    expect(loadAddon(BUILT)).toBe(true);
    // Holes in the allocator's heap: many blocks, every other one freed.
    const kept: Buffer[] = [];
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(16 * 1024, 1);
      if (i % 2 === 0) kept.push(b);
    }
    expect(typeof mallocTrim()).toBe('boolean');
    expect(kept.length).toBe(1000);
  });

  it('tells who is at the other end of a socket as the kernel says, as the helper does', async () => {
    expect(loadAddon(BUILT)).toBe(true);
    const c = await connection();
    try {
      expect(socketPeer(fdOf(c.accepted))).toEqual(me());
      await expect(peerCredentials(null, c.accepted)).resolves.toEqual(me());
      await expect(helperPeer(RELAY, fdOf(c.accepted))).resolves.toEqual(me());
    } finally {
      c.close();
    }
    // Not a socket, not a descriptor: the error number, no throw.
    const file = fs.openSync(path.join(dir, 'plain'), 'w');
    try {
      expect(socketPeer(file)).toEqual({ errno: os.constants.errno.ENOTSOCK });
    } finally {
      fs.closeSync(file);
    }
    expect(socketPeer(1_000_000)).toEqual({ errno: os.constants.errno.EBADF });
    expect(socketPeer(-1)).toEqual({ errno: os.constants.errno.EBADF });
  });

  it('reads one length-prefixed request within its time: whole across writes; too long, silent or cut short, an error number', async () => {
    expect(loadAddon(BUILT)).toBe(true);
    const file = path.join(dir, `r${Math.random().toString(36).slice(2)}.sock`);
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((r) => server.listen(file, r));
    const { ETIMEDOUT, EMSGSIZE, ECONNRESET } = os.constants.errno;
    async function receive(write: (c: net.Socket) => void, max = 100, ms = 300): Promise<ReturnType<typeof receiveWithDescriptors>> {
      const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
      const client = net.connect(file);
      const s = await accepted;
      write(client);
      try {
        // Read off the event loop's thread as the standby does: the bytes come meanwhile.
        return await new Promise((resolve) => setTimeout(() => resolve(receiveWithDescriptors(fdOf(s), max, ms)), 20));
      } finally {
        client.destroy();
        s.destroy();
      }
    }
    try {
      const frame = (text: string): Buffer => Buffer.concat([Buffer.from([0, 0, 0, Buffer.byteLength(text)]), Buffer.from(text)]);
      expect(await receive((c) => c.write(frame('hello\0')))).toEqual({ body: Buffer.from('hello\0'), fds: [] });
      // In pieces, the last ones late, from another process (the read blocks this one).
      const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
      const writer = `const c = require('net').connect(process.argv[1]); const f = Buffer.from('0000000d73706c69742072657175657374', 'hex');
        c.write(f.subarray(0, 2)); setTimeout(() => c.write(f.subarray(2, 9)), 40); setTimeout(() => c.end(f.subarray(9)), 120);`;
      const child = spawn(process.execPath, ['-e', writer, file], { stdio: 'ignore' });
      const s = await accepted;
      try {
        expect(receiveWithDescriptors(fdOf(s), 100, 5000)).toEqual({ body: Buffer.from('split request'), fds: [] });
      } finally {
        s.destroy();
        child.kill();
      }
      expect(await receive((c) => c.write(frame('x'.repeat(101))))).toEqual({ errno: EMSGSIZE });
      expect(await receive(() => undefined)).toEqual({ errno: ETIMEDOUT });
      expect(await receive((c) => c.end(frame('whole').subarray(0, 6)))).toEqual({ errno: ECONNRESET });
      expect(receiveWithDescriptors(-1, 10, 10)).toEqual({ errno: os.constants.errno.EINVAL });
    } finally {
      server.close();
    }
  });

  it('turns output processing off on a real terminal, and says so', async () => {
    // In a real pty, a Node process calls it on its stdin and asks stty before and after
    // (Node puts its stdio's modes back when it exits).
    const stty = "require('child_process').execSync('stty -a', { stdio: ['inherit', 'pipe', 'ignore'] }).toString().match(/-?opost/)[0]";
    const call = `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(BUILT)}); const before = ${stty}; const r = m.exports.rawOutput(0); console.log(before, String(r), ${stty}); console.log('two lines')`;
    const p = pty.spawn(process.execPath, ['-e', call], { cols: 80, rows: 24, env: process.env as Record<string, string> });
    let out = '';
    p.onData((d) => (out += d));
    await new Promise<void>((resolve) => p.onExit(() => resolve()));
    // Once off, lines end in a bare LF: the kernel no longer adds the CR.
    expect(out).toBe('opost 0 -opost\ntwo lines\n');
    // Not a terminal: the error number, no throw.
    expect(loadAddon(BUILT)).toBe(true);
    const file = fs.openSync(path.join(dir, 'not-a-tty'), 'w');
    try {
      expect(terminalRawOutput(file)).toBe(false);
    } finally {
      fs.closeSync(file);
    }
  });

  it('leaves the session and moves descriptors, in a process of its own', () => {
    // setsid in a child: the test's own process must keep its session.
    const log = path.join(dir, 'moved.log');
    const code = `const fs = require('fs'); const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(BUILT)}); const a = m.exports;
const leader = a.setsid(); // not a process group leader here: it may
const sid = Number(fs.readFileSync('/proc/self/stat', 'latin1').split(') ')[1].split(' ')[3]);
const saved = a.dupCloexec(1);
const logFd = fs.openSync(${JSON.stringify(log)}, 'a');
const moved = a.dup2(logFd, 1);
fs.writeSync(1, 'to the log\\n');
fs.writeSync(saved, JSON.stringify({ leader, sid, pid: process.pid, saved, moved, bad: [a.dupCloexec(-1), a.dupCloexec(999999), a.dup2(999999, 1), a.dup2(1, -1)] }));`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { leader: number; sid: number; pid: number; saved: number; moved: number; bad: number[] };
    expect(out.leader).toBe(out.pid); // not a group leader: a session of its own, named by its pid
    expect(out.sid).toBe(out.pid);
    expect(out.saved).toBeGreaterThan(2);
    expect(out.moved).toBe(0);
    expect(out.bad).toEqual([-os.constants.errno.EBADF, -os.constants.errno.EBADF, -os.constants.errno.EBADF, -os.constants.errno.EBADF]);
    expect(fs.readFileSync(log, 'utf8')).toBe('to the log\n');
    // A process group leader cannot: the errno, nothing changed.
    // (setsid(1) makes the program a session leader, so a process group leader.)
    const leader = spawnSync('setsid', ['-w', process.execPath, '-e', `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(BUILT)}); console.log(m.exports.setsid())`], { encoding: 'utf8' });
    expect(leader.stdout.trim()).toBe(String(-os.constants.errno.EPERM));
  });

  it('maps a file as a string outside V8\'s heap: the same text as read; errors as error numbers', () => {
    expect(loadAddon(BUILT)).toBe(true);
    const file = path.join(dir, 'text.js');
    const text = `${'const x = "ascii and Latin-1 \u00e9";\n'.repeat(20_000)}// end\n`;
    fs.writeFileSync(file, text, 'latin1');
    expect(mappedText(file)).toBe(fs.readFileSync(file, 'latin1'));
    // In a process of its own: V8's heap does not grow by the file's size, and the file is mapped.
    const code = `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(BUILT)}); const fs = require('fs');
gc(); const before = process.memoryUsage().heapUsed;
const s = m.exports.mapText(${JSON.stringify(file)});
gc(); const after = process.memoryUsage().heapUsed;
const mapped = fs.readFileSync('/proc/self/maps', 'latin1').includes(${JSON.stringify(file)});
const maps = () => fs.readFileSync('/proc/self/maps', 'latin1').split(${JSON.stringify(file)}).length - 1;
const withOne = maps();
(() => m.exports.mapText(${JSON.stringify(file)}).length)(); // a second map, dropped at once
const withTwo = maps();
const e = fs.mkdtempSync(${JSON.stringify(path.join(dir, 'e-'))}); fs.writeFileSync(e + '/empty', '');
const result = { length: s.length, grew: after - before, mapped, missing: m.exports.mapText(e + '/none'), dir: m.exports.mapText(e), empty: m.exports.mapText(e + '/empty'), none: m.exports.mapText(''), nul: m.exports.mapText(${JSON.stringify(file)} + '\\0tail'), long: m.exports.mapText('/' + 'a/'.repeat(2100)), fifo: (() => { require('child_process').execFileSync('mkfifo', [e + '/fifo']); return m.exports.mapText(e + '/fifo'); })() };
// Collected, the dropped string's map goes (its finalizer may run after the collection's turn).
(async () => { let unmapped = false; for (let i = 0; i < 50 && !unmapped; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); unmapped = maps() === withOne; }
console.log(JSON.stringify({ ...result, withOne, withTwo, unmapped, kept: s.length })); })();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', code], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { length: number; grew: number; mapped: boolean; missing: number; dir: number; empty: number; none: number; nul: number; long: number; fifo: number; withOne: number; withTwo: number; unmapped: boolean };
    expect(out.length).toBe(text.length);
    expect(out.withTwo).toBe(out.withOne + 1);
    expect(out.unmapped).toBe(true);
    expect(out.grew).toBeLessThan(text.length / 10);
    expect(out.mapped).toBe(true);
    const { ENOENT, EINVAL } = os.constants.errno;
    // A NUL inside, a path longer than the addon takes, a FIFO (not waited on: no writer ever comes).
    expect([out.missing, out.dir, out.empty, out.none, out.nul, out.long, out.fifo]).toEqual([-ENOENT, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL]);
  });
});
