import * as fs from 'node:fs';
import { readToEnd } from './read-file';

// Everything read from /proc, in one place: process states, groups, start times, command
// lines and environments. A pid alone proves nothing (it may have been recycled, after a
// reboot surely), so callers compare start times, command lines or markers before they
// act on one.

export interface ProcStat {
  pid: number;
  /** The command name (comm), up to 15 bytes. */
  comm: string;
  /** R, S, D, Z (zombie), X (dead), T… */
  state: string;
  ppid: number;
  pgid: number;
  /** The session id (the session leader's pid). */
  sid: number;
  /** The foreground process group of the process's controlling terminal (0 or -1: none). */
  tpgid: number;
  /** CPU time used in user and kernel mode, in clock ticks (USER_HZ: 100 a second). */
  utimeTicks: number;
  stimeTicks: number;
  /** Its niceness, -20 to 19. */
  nice: number;
  /** Start time in clock ticks since boot, as the kernel wrote it (exact: compare these). */
  startTicks: string;
  /** Start time in ms since the epoch (to the tick: 10 ms). */
  startedAtMs: number;
}

/** Linux reports start times in USER_HZ ticks, which is 100 on every architecture. */
export const TICKS_PER_SECOND = 100;

let bootMs: number | null = null;
function bootTimeMs(): number {
  if (bootMs === null) {
    const m = /^btime (\d+)$/m.exec(readProcText('/proc/stat') ?? '');
    bootMs = m ? Number(m[1]) * 1000 : 0;
  }
  return bootMs;
}

/**
 * A /proc file's text, or null when it is gone or not ours to read. Read into one buffer
 * until the end, not with readFileSync: /proc files say they are empty, which costs that
 * a stat and a growing buffer (~100 µs a file here against ~20: `list` reads two per agent).
 * `oneRecord`: a file the kernel gives whole in one read (see readToEnd).
 */
export function readProcText(file: string, encoding: BufferEncoding = 'latin1', oneRecord = false): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY);
  } catch {
    return null;
  }
  try {
    return readToEnd(fd, encoding, oneRecord);
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** The whole machine's CPU time so far, in ticks: all of it, and what was not idle. */
export interface MachineCpu {
  busy: number;
  total: number;
}

/** /proc/stat's first line (all CPUs); null where there is none. */
export function machineCpu(): MachineCpu | null {
  const text = readProcText('/proc/stat');
  return text === null ? null : parseMachineCpu(text);
}

/** The first line of /proc/stat's text, read; null when it is not the all-CPUs line. */
export function parseMachineCpu(text: string): MachineCpu | null {
  const line = text.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return null;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 8 || f.some((n) => !Number.isFinite(n))) return null;
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

/** The share of the machine's CPU time that was busy between two readings (0 when none passed). */
export function busyShare(from: MachineCpu, to: MachineCpu): number {
  const total = to.total - from.total;
  return total > 0 ? (to.busy - from.busy) / total : 0;
}

/** /proc/PID/stat, parsed; null when the process is gone. */
export function procStat(pid: number): ProcStat | null {
  const text = readProcText(`/proc/${pid}/stat`, 'latin1', true);
  if (text === null) return null;
  // The command name is in parentheses and may hold spaces and parentheses itself:
  // everything after the last ')' is fields 3 onwards.
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ', 20); // up to the start time, field 22
  if (f.length < 20) return null;
  const num = (i: number) => Number(f[i]);
  return {
    pid,
    comm: text.slice(text.indexOf('(') + 1, close),
    state: f[0]!,
    ppid: num(1),
    pgid: num(2),
    sid: num(3),
    tpgid: num(5),
    utimeTicks: num(11),
    stimeTicks: num(12),
    nice: num(16),
    startTicks: f[19]!,
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

/** The command line, arguments joined by spaces ('' when gone). */
export function cmdline(pid: number): string {
  return (readProcText(`/proc/${pid}/cmdline`) ?? '').replace(/\0+$/, '').replace(/\0/g, ' ');
}

/** The command line as its arguments ([] when gone). */
export function argv(pid: number): string[] {
  const raw = readProcText(`/proc/${pid}/cmdline`, 'utf8');
  if (!raw) return [];
  return raw.replace(/\0$/, '').split('\0');
}

/** Does the process's environment hold `NAME=value`? */
export function hasEnv(pid: number, name: string, value: string): boolean {
  const env = readProcText(`/proc/${pid}/environ`);
  return env !== null && `\0${env}`.includes(`\0${name}=${value}\0`);
}

/** Every pid in /proc right now (empty where /proc cannot be read). */
export function allPids(): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e)).map(Number);
}

/**
 * Pids of live processes (not this one) whose environment holds `NAME=value`: how the
 * tests and the benchmark find every process they started, directly or not.
 */
export function pidsWithEnv(name: string, value: string): number[] {
  return allPids().filter((pid) => pid !== process.pid && hasEnv(pid, name, value));
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

/** Every live (non-zombie) process, one /proc pass. */
export function liveProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of allPids()) {
    const st = procStat(pid);
    if (st && st.state !== 'Z' && st.state !== 'X') out.push(st);
  }
  return out;
}

/**
 * The live descendants of `pid` (children, their children…), whatever their process group
 * or session: the parent links as /proc has them now (a process whose parent died was
 * given to init or a subreaper, and is no one's descendant any more).
 */
export function descendantsOf(pid: number, table: ProcStat[] = liveProcesses()): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const st of table) {
    const list = children.get(st.ppid);
    if (list) list.push(st);
    else children.set(st.ppid, [st]);
  }
  const out: ProcStat[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    for (const c of children.get(todo.pop()!) ?? []) {
      if (c.pid === pid || out.includes(c)) continue;
      out.push(c);
      todo.push(c.pid);
    }
  }
  return out;
}

/** The process is still the one seen (not gone, not a zombie, its pid not reused). */
export function stillRunning(p: { pid: number; startTicks: string }): boolean {
  const st = procStat(p.pid);
  return st !== null && st.startTicks === p.startTicks && st.state !== 'Z' && st.state !== 'X';
}
