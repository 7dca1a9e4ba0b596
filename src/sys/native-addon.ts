import { constants } from 'node:os';
import * as path from 'node:path';
import { DIST_DIR } from '../dist-dir';

// The project's Node addon (native/addon.c, built at install next to the relay): glibc's
// malloc_trim(0) and SO_PEERCRED for the supervisor, output processing off for `attach`,
// setsid / dup for a spawning CLI that becomes its agent's supervisor, and a request with
// descriptors for the standby (src/standby/).
// It is optional: without it (no compiler at install, another libc) nothing is trimmed,
// the relay's "peer" mode tells who connected, `attach` runs `stty -opost`, and a spawn
// starts its supervisor as a Node of its own. The
// supervisor loads it before `ready`, like everything else it reads from the install
// directory; the CLI only when it attaches.

const ADDON = path.join(DIST_DIR, 'symposium-addon.node');

/** The addon's calls, checked once at load. */
interface Addon {
  trim(): boolean;
  /** [pid, uid, gid] of a Unix socket's other end, or a negative errno. */
  peer(fd: number): number[] | number;
  /** 0, or a negative errno. */
  rawOutput(fd: number): number;
  /** The new session's id, or a negative errno. */
  setsid(): number;
  /** A new descriptor (closed on exec) for the file of `fd`, or a negative errno. */
  dupCloexec(fd: number): number;
  /** 0, or a negative errno. */
  dup2(from: number, to: number): number;
  /** [body, fd...] of one length-prefixed request, or a negative errno. */
  receive(fd: number, max: number, ms: number): unknown[] | number;
  /** The file as a Latin-1 string V8 reads from a map of it, or a negative errno (optional:
   *  an addon built before it still does the rest). */
  mapText?(file: string): string | number;
  /** A copy of this process, detached (native/addon.c): its pid here, 0 in it, or a
   *  negative errno (optional, as mapText). */
  forkDetached?(): number;
  /** _exit(code), without Node's teardown (optional, as mapText). */
  exitNow?(code: number): never;
  /** getpid() (optional, as mapText). */
  ownPid?(): number;
  /** Puts back the status flags dup2 found on 0-2 (Node makes a pipe it writes to non-blocking). */
  restoreStdio?(): void;
  /** An agent started on a new pty without a fork: as node-pty's fork answers, or a negative
   *  errno (optional, as mapText). */
  ptySpawn?(...args: Parameters<PtySpawn>): unknown;
}

/** The agent started: the pty's master, the agent's pid, the slave's path (as node-pty's fork answers). */
export interface PtySpawned {
  fd: number;
  pid: number;
  pty: string;
}

/** What the addon's ptySpawn takes and answers (native/addon.c): the agent, or a negative errno. */
export type PtySpawn = (
  file: string,
  args: string[],
  env: string[],
  cwd: string,
  cols: number,
  rows: number,
  utf8: boolean,
  onexit: (code: number, signal: number) => void,
) => PtySpawned | number;

let loaded: Addon | null = null;

/** Loads the addon; false when it is not there, does not load, or lacks a call. */
export function loadAddon(file = ADDON): boolean {
  if (loaded && file === ADDON) return true;
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  try {
    process.dlopen(mod, file);
  } catch {
    return false;
  }
  const calls: Array<keyof Addon> = ['trim', 'peer', 'rawOutput', 'setsid', 'dupCloexec', 'dup2', 'receive'];
  if (!calls.every((name) => typeof mod.exports[name] === 'function')) return false;
  loaded = mod.exports as unknown as Addon;
  return true;
}

/**
 * An ASCII or Latin-1 file's text, held by V8 outside its heap over a read-only map of the
 * file (native/addon.c, mapText): its pages are the page cache's, shared by every process
 * that maps the file. Null when the addon or this Node cannot; read the file then.
 */
export function mappedText(file: string): string | null {
  if (!loadAddon() || typeof loaded!.mapText !== 'function') return null;
  const r = loaded!.mapText(file);
  return typeof r === 'string' ? r : null;
}

/** The calls of a process copied from a warm one (src/standby/copy.ts). */
export type CopyCalls = Required<Pick<Addon, 'forkDetached' | 'exitNow' | 'ownPid' | 'restoreStdio'>>;

/** The copy calls; null when the addon lacks them. */
export function copyCalls(): CopyCalls | null {
  if (!loaded) return null;
  const { forkDetached, exitNow, ownPid, restoreStdio } = loaded;
  if (typeof forkDetached !== 'function' || typeof exitNow !== 'function' || typeof ownPid !== 'function' || typeof restoreStdio !== 'function') return null;
  return { forkDetached, exitNow, ownPid, restoreStdio };
}

/** The addon's spawn on a new pty (src/supervisor/lifecycle/pty-spawn.ts); null when it lacks it. */
export function ptySpawnCall(): PtySpawn | null {
  if (!loadAddon() || typeof loaded!.ptySpawn !== 'function') return null;
  const spawn = loaded!.ptySpawn.bind(loaded);
  return (...args) => {
    const r = spawn(...args);
    if (typeof r === 'number') return r;
    const o = r as Partial<PtySpawned> | null;
    // Anything else is not an answer of this addon's: EPROTO, and the caller falls back.
    const ok = o !== null && typeof o === 'object' && Number.isInteger(o.fd) && Number.isInteger(o.pid) && o.pid! > 0 && typeof o.pty === 'string';
    return ok ? { fd: o.fd!, pid: o.pid!, pty: o.pty! } : -constants.errno.EPROTO;
  };
}

/** Gives the allocator's free pages back; true when some were. False when not loaded. */
export function mallocTrim(): boolean {
  return loaded ? loaded.trim() : false;
}

/** Who is at the other end of the Unix socket `fd`, per the kernel; null without the addon. */
export function socketPeer(fd: number): { pid: number; uid: number; gid: number } | { errno: number } | null {
  if (!loaded) return null;
  const r = loaded.peer(fd);
  if (typeof r === 'number') return { errno: -r };
  if (!Array.isArray(r) || r.length !== 3 || !r.every((n) => Number.isInteger(n))) return { errno: 0 };
  return { pid: r[0], uid: r[1], gid: r[2] };
}

/** The process calls that detach it (src/spawn-front-end.ts); null without the addon. */
export function processCalls(): Pick<Addon, 'setsid' | 'dupCloexec' | 'dup2'> | null {
  return loaded;
}

/** Output processing off on the terminal `fd`: true when done, null without the addon. */
export function terminalRawOutput(fd: number): boolean | null {
  return loaded ? loaded.rawOutput(fd) === 0 : null;
}

/**
 * One request read from the connected Unix socket `fd` within `ms`: a 4-byte big-endian
 * length, then at most `max` bytes, and the descriptors sent along with them (ours now,
 * closed on exec). Null without the addon.
 */
export function receiveWithDescriptors(fd: number, max: number, ms: number): { body: Buffer; fds: number[] } | { errno: number } | null {
  if (!loaded) return null;
  const r = loaded.receive(fd, max, ms);
  if (typeof r === 'number') return { errno: -r };
  const [body, ...fds] = r;
  if (!Buffer.isBuffer(body) || !fds.every((n): n is number => Number.isInteger(n))) return { errno: 0 };
  return { body, fds };
}
