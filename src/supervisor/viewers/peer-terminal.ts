import * as fs from 'node:fs';
import type * as net from 'node:net';
import type { TerminalHandover } from '../../protocol/messages';
import { peerCredentials } from '../native/peer-credentials';

// Which terminal a viewer may hand over (protocol.md §8.6): only one that the connecting
// process itself holds open, as the kernel says, not as the client claims. A path with a
// device and inode proves nothing: a client of ours could name another session's
// /dev/pts/N, the agent's own pty (its output fed back as its input: 40 000 chunks in
// 5 s), or /dev/ptmx (a new pty master, whose writes libuv retries without waiting: the
// supervisor spun at full CPU for good, even for a read-only viewer). So: the peer's pid
// from SO_PEERCRED, one of its own descriptors that is exactly that terminal (st_dev,
// st_ino), a pty slave (never a master), not the agent's own, opened through the peer's
// descriptor and checked again once open.

/** A terminal to use, as our own descriptor, or why the hand-over is refused. */
export type TerminalProof = { fd: number } | { refused: string };

/** Unix 98 pty slaves (/dev/pts/N): majors 136 to 143 on Linux (UNIX98_PTY_SLAVE_MAJOR, 8 of them). */
const PTY_SLAVE_MAJORS = [136, 143] as const;

// glibc's gnu_dev_major and gnu_dev_minor (`>>>` keeps the low 32 bits of the number).
function major(rdev: number): number {
  return (((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & 0xfffff000)) >>> 0;
}

function minor(rdev: number): number {
  return ((rdev & 0xff) | ((rdev >>> 12) & 0xfff00)) >>> 0;
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/** The peer's descriptor numbers (as strings) that are this very file. */
function heldDescriptors(pid: number, h: TerminalHandover): string[] {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  return fds.filter((n) => {
    const st = statOrNull(`/proc/${pid}/fd/${n}`);
    return st !== null && st.isCharacterDevice() && st.dev === h.dev && st.ino === h.ino;
  });
}

/** Why this device may not be taken, or null when it is a pty slave that is not the agent's. */
function refusal(st: fs.Stats, h: TerminalHandover, agentTerminal: string | null): string | null {
  const maj = major(st.rdev);
  if (maj === 5 && minor(st.rdev) === 2) return `${h.path} is a pty master (/dev/ptmx): only a terminal's own side is taken`;
  if (maj < PTY_SLAVE_MAJORS[0] || maj > PTY_SLAVE_MAJORS[1]) return `${h.path} is not a pseudo-terminal (device ${maj}:${minor(st.rdev)}): only a pty's terminal side is taken`;
  const agent = agentTerminal ? statOrNull(agentTerminal) : null;
  if (agent && agent.rdev === st.rdev) return `${h.path} is the agent's own terminal: its output would become its input`;
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return `${h.path} belongs to another user`;
  return null;
}

/**
 * Opens the terminal the client named, if the connecting process holds it (see above).
 * `binary`: the native helper (binary.ts), asked when the addon is not loaded; `agentTerminal`:
 * the agent's pty slave path.
 */
export async function openPeerTerminal(binary: string | null, socket: net.Socket, h: TerminalHandover, agentTerminal: string | null): Promise<TerminalProof> {
  let pid: number;
  try {
    const cred = await peerCredentials(binary, socket);
    if (typeof process.getuid === 'function' && cred.uid !== process.getuid()) return { refused: `the client runs as uid ${cred.uid}, not as this supervisor's user` };
    pid = cred.pid;
  } catch (err) {
    return { refused: `the supervisor cannot tell who connected, so it takes no terminal: ${(err as Error).message}` };
  }
  if (socket.destroyed) return { refused: 'the client left' };
  const held = heldDescriptors(pid, h);
  if (held.length === 0) return { refused: `the client (pid ${pid}) does not hold ${h.path} open: only the client's own terminal is taken` };
  const st = statOrNull(`/proc/${pid}/fd/${held[0]}`);
  const why = st ? refusal(st, h, agentTerminal) : 'the client closed it';
  if (why) return { refused: why };
  let fd: number;
  try {
    // Through the client's own descriptor: the very file it holds. O_NOCTTY: the supervisor
    // leads its own session, and a terminal it merely opens must never become its
    // controlling terminal (its hang-up would kill the supervisor).
    fd = fs.openSync(`/proc/${pid}/fd/${held[0]}`, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  } catch (err) {
    return { refused: `cannot open ${h.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const done = checkOpened(fd, h, st!);
  if (done === null) return { fd };
  fs.closeSync(fd);
  return { refused: done };
}

/**
 * The opened file is the one checked (the client may have swapped its descriptor
 * meanwhile), and reachable by its name here: libuv reopens a terminal by name to write
 * it without blocking, and one it cannot reopen it writes in a loop that never waits.
 */
function checkOpened(fd: number, h: TerminalHandover, checked: fs.Stats): string | null {
  const st = fs.fstatSync(fd);
  if (st.rdev !== checked.rdev || st.dev !== h.dev || st.ino !== h.ino) return `${h.path} changed while it was checked`;
  let name: string;
  try {
    name = fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return `${h.path} has no name here`;
  }
  const byName = statOrNull(name);
  if (!byName || byName.rdev !== st.rdev || byName.ino !== st.ino) return `${h.path} cannot be reached by its name here (another mount namespace?)`;
  return null;
}
