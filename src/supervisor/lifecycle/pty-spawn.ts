import { ptySpawnCall } from '../../sys/native-addon';

// The agent started without a fork. node-pty (the pinned 1.1.0) starts it with forkpty: a
// fork of the supervisor, whose page tables the kernel copies and the child tears down
// again at its exec, and after which every page the supervisor writes faults once more (it
// was shared with the child, write-protected). A supervisor copied from the standby has
// ~57 MB mapped: measured in a storm of 40 spawns, 10 at a time, starting the agent took
// 6.9 ms of a copy's CPU and 335 page faults. The addon's ptySpawn (native/addon.c) sets
// the pty up as node-pty's fork does and starts the agent with posix_spawn (a clone that
// shares the memory until the exec), and answers as node-pty's fork does: node-pty's
// native `fork` is replaced by it in this process, so that node-pty's terminal (its
// streams, its exit, everything pty-internals.ts reaches) stays as it was. Whatever
// ptySpawn cannot do (another uid, a program it does not find, no addon) goes to
// node-pty's own fork, which fails as it always did.

/** node-pty's fork, as its unixTerminal.js calls it. */
type NativeFork = (
  file: string,
  args: string[],
  env: string[],
  cwd: string,
  cols: number,
  rows: number,
  uid: number,
  gid: number,
  utf8: boolean,
  helperPath: string,
  onexit: (code: number, signal: number) => void,
) => unknown;

let installed = false;

/** node-pty's native module as node-pty loaded it (its require of build/Release/pty.node). */
function nodePtyNative(): { fork: NativeFork } | null {
  const key = Object.keys(require.cache).find((k) => /[\\/]node-pty[\\/].*[\\/]pty\.node$/.test(k));
  const exports: unknown = key ? require.cache[key]?.exports : undefined;
  if (typeof exports !== 'object' || exports === null || typeof (exports as { fork?: unknown }).fork !== 'function') return null;
  return exports as { fork: NativeFork };
}

/**
 * Makes node-pty start agents with the addon's ptySpawn, once per process (node-pty must be
 * loaded: agent-process.ts imports it). False when it cannot: node-pty forks as before.
 */
export function spawnWithoutFork(): boolean {
  if (installed) return true;
  const spawn = ptySpawnCall();
  const native = spawn ? nodePtyNative() : null;
  if (!spawn || !native) return false;
  const fork = native.fork;
  native.fork = (file, args, env, cwd, cols, rows, uid, gid, utf8, helperPath, onexit) => {
    if (uid === -1 && gid === -1 && Array.isArray(args) && Array.isArray(env) && typeof onexit === 'function') {
      const r = spawn(file, args, env, cwd, cols, rows, utf8, onexit);
      if (typeof r !== 'number') return r;
    }
    return fork(file, args, env, cwd, cols, rows, uid, gid, utf8, helperPath, onexit);
  };
  installed = true;
  return true;
}
