import type * as net from 'node:net';
import { socketDescriptor } from '../../sys/socket-reads';
import { socketPeer } from '../../sys/native-addon';

// Who is at the other end of a client's connection, as the kernel recorded it when the
// client connected (SO_PEERCRED), not as the client says. Node has no call for it: the
// project's addon asks it in process (native/addon.c); without the addon,
// the native helper in its "peer" mode (native/relay.c) reads it from the descriptor it
// inherits and prints it, as a process of its own (15-20 ms here).

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** The helper answers in a few ms; one that does not is killed and the check fails. */
const PEER_TIMEOUT_MS = 2000;

export function peerCredentials(binary: string | null, socket: net.Socket): Promise<PeerCredentials> {
  const fd = socketDescriptor(socket);
  if (fd < 0) return Promise.reject(new Error('the connection has no descriptor'));
  const asked = socketPeer(fd);
  if (asked) return 'errno' in asked ? Promise.reject(new Error(`getsockopt failed (errno ${asked.errno})`)) : Promise.resolve(asked);
  if (!binary) return Promise.reject(new Error('neither the native addon nor the native helper was built'));
  return helperPeer(binary, fd);
}

/** The native helper's answer: it inherits the connection as fd 3 and prints "pid uid gid". */
export function helperPeer(binary: string, fd: number): Promise<PeerCredentials> {
  // Loaded on first use: a supervisor nobody attaches to never needs it.
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['peer'], { stdio: ['ignore', 'pipe', 'ignore', fd] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), PEER_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 256) out += d;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', () => {
      clearTimeout(timer);
      const m = /^(\d+) (\d+) (\d+)\n$/.exec(out);
      if (m) resolve({ pid: Number(m[1]), uid: Number(m[2]), gid: Number(m[3]) });
      else reject(new Error(out.startsWith('error ') ? `getsockopt failed (errno ${out.slice(6).trim()})` : 'the native helper gave no answer'));
    });
  });
}
