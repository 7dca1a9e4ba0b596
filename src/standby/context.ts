import * as fs from 'node:fs';
import * as path from 'node:path';
import { procStat, readProcText } from '../sys/proc';

// What a process inherits besides its environment, arguments, directory, umask and
// descriptors: its limits, cgroup (a systemd scope with a memory cap), groups, privileges
// (capabilities, no_new_privs, seccomp), CPU and memory nodes, namespaces, security label
// and niceness. A spawn's CLI inherits them from its front end, and the agent from it. A
// standby has those of the front end that started it, which may be another terminal's
// (`ulimit -n`, `sg docker`, `systemd-run --scope -p MemoryMax=`, a sandbox), so it takes
// a spawn only from a front end whose context is its own, read from /proc for both. The
// environment that Node, glibc and the dynamic linker read at start (NODE_*, UV_*, LD_*,
// MALLOC_*, GLIBC_TUNABLES) and the `node` that the front end's PATH finds must be the
// standby's own too: they were read or chosen when the standby started.

/** Lines of /proc/PID/status that a process inherits. */
const STATUS_FIELDS = ['Groups', 'NoNewPrivs', 'Seccomp', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'Cpus_allowed_list', 'Mems_allowed_list'];
const NAMESPACES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'];
/** Environment read once, as a process starts. */
const START_ENV = /^(NODE_|UV_|LD_|MALLOC_|GLIBC_TUNABLES$)/;

function read(file: string): string {
  return readProcText(file) ?? '';
}

/**
 * /proc/PID/limits, but only the hard limit of open files: Node raises its soft limit to
 * the hard one as it starts (the cold path's CLI, and so its agent, get the same).
 */
function limits(pid: number): string {
  return read(`/proc/${pid}/limits`)
    .split('\n')
    .map((line) => {
      const [name = '', soft = '', hard = '', units = ''] = line.trim().split(/\s{2,}/);
      return [name, name === 'Max open files' ? '-' : soft, hard, units].join('|');
    })
    .join('\n');
}

/** The inherited context of `pid`, as comparable text, one item per entry. */
export function processContext(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  out.set('limits', limits(pid));
  out.set('cgroup', read(`/proc/${pid}/cgroup`));
  const status = read(`/proc/${pid}/status`);
  for (const field of STATUS_FIELDS) out.set(field, new RegExp(`^${field}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '');
  for (const ns of NAMESPACES) {
    try {
      out.set(`ns/${ns}`, fs.readlinkSync(`/proc/${pid}/ns/${ns}`));
    } catch {
      out.set(`ns/${ns}`, '');
    }
  }
  out.set('security label', read(`/proc/${pid}/attr/current`));
  out.set('nice', String(procStat(pid)?.nice ?? ''));
  return out;
}

/** The start-up environment entries of `env`, sorted, as text. */
export function startEnv(env: NodeJS.ProcessEnv): string {
  return Object.keys(env)
    .filter((name) => START_ENV.test(name))
    .sort()
    .map((name) => `${name}=${env[name] ?? ''}`)
    .join('\n');
}

/** The `node` that execvp finds on `pathVar`, as a real path; null when none. */
export function nodeOnPath(pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(':')) {
    if (!dir) continue; // the current directory: never ours to guess
    const file = path.join(dir, 'node');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return fs.realpathSync(file);
    } catch {
      /* not here */
    }
  }
  return null;
}

/** The first item in which the two contexts differ, or null when they do not. */
export function contextDifference(a: Map<string, string>, b: Map<string, string>): string | null {
  for (const [key, value] of a) if (b.get(key) !== value) return key;
  return null;
}
