import * as net from 'node:net';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon, mallocTrim, socketPeer } from '../../src/supervisor/native/addon';
import { helperPeer, peerCredentials } from '../../src/supervisor/native/peer-credentials';

// The addon the build makes from native/supervisor-addon.c (scripts/build-relay.js), and
// the relay whose "peer" mode answers without it.
const DIST = path.join(__dirname, '..', '..', 'dist');
const BUILT = path.join(DIST, 'symposium-supervisor.node');
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

describe('the supervisor addon', () => {
  it('does nothing until it is loaded, and a missing addon is no error', async () => {
    expect(loadAddon(path.join(__dirname, 'no-such-addon.node'))).toBe(false);
    expect(mallocTrim()).toBe(false);
    expect(socketPeer(0)).toBeNull();
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
});
