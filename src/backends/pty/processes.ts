import * as fs from 'node:fs';
import { allPids } from '../../proc-env';

// Looking at processes through /proc, for the cases where a supervisor is gone and only
// pids remain in the record. A recorded pid may have been recycled (after a reboot every
// pid is someone else's), so nothing is signalled on the strength of a pid alone.

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), X (dead), T… */
  state: string;
  ppid: number;
  pgid: number;
  /** ms since the epoch */
  startedAtMs: number;
}

/** Linux reports start times in USER_HZ ticks, which is 100 on every architecture. */
const TICKS_PER_SECOND = 100;

let bootMs: number | null = null;
function bootTimeMs(): number {
  if (bootMs === null) {
    const m = /^btime (\d+)$/m.exec(readText('/proc/stat') ?? '');
    bootMs = m ? Number(m[1]) * 1000 : 0;
  }
  return bootMs;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return null;
  }
}

export function procStat(pid: number): ProcStat | null {
  const text = readText(`/proc/${pid}/stat`);
  if (text === null) return null;
  // The command name is in parentheses and may hold spaces: split after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const num = (i: number) => Number(f[i]);
  if (f.length < 20) return null;
  return {
    pid,
    state: f[0]!,
    ppid: num(1),
    pgid: num(2),
    startedAtMs: bootTimeMs() + (num(19) * 1000) / TICKS_PER_SECOND,
  };
}

/** Alive and not a zombie waiting to be reaped. */
export function pidAlive(pid: number | null | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const st = procStat(pid);
  return st === null || (st.state !== 'Z' && st.state !== 'X');
}

function cmdline(pid: number): string {
  return (readText(`/proc/${pid}/cmdline`) ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
}

/** The supervisor sets its title to `symposium-supervisor ID`. */
export function isSupervisorOf(pid: number | null | undefined, id: string): boolean {
  return pidAlive(pid) && cmdline(pid!) === `symposium-supervisor ${id}`;
}

function isAnySupervisor(pid: number): boolean {
  return cmdline(pid).startsWith('symposium-supervisor ');
}

/** Every live (non-zombie) process of a process group. */
export function groupMembers(pgid: number): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of allPids()) {
    const st = procStat(pid);
    if (st && st.pgid === pgid && st.state !== 'Z' && st.state !== 'X') out.push(st);
  }
  return out;
}

/** The supervisor gives every agent this variable (agent-process.ts). */
const AGENT_MARKER = 'SYMPOSIUM_AGENT=1';

function hasAgentMarker(pid: number): boolean {
  const env = readText(`/proc/${pid}/environ`);
  return env !== null && `\0${env}`.includes(`\0${AGENT_MARKER}\0`);
}

/**
 * The live processes of an agent's process group after its supervisor died, or [] when
 * that group is not (or no longer) such an orphan. A member counts only if it carries the
 * agent marker in its environment and started after the session was created; a group
 * still parented by a live supervisor belongs to that supervisor, not to us.
 */
export function orphanedAgentGroup(pgid: number | null | undefined, createdAtMs: number): number[] {
  if (!pgid || pgid <= 1) return [];
  const members = groupMembers(pgid);
  if (members.some((m) => m.ppid > 1 && isAnySupervisor(m.ppid))) return [];
  // Start times are known to 10 ms; the clock may also have been stepped a little.
  const ours = members.filter((m) => m.startedAtMs >= createdAtMs - 2000 && hasAgentMarker(m.pid));
  return ours.map((m) => m.pid);
}
