import * as fs from 'node:fs';
import { type MachineCpu, machineCpu as readMachineCpu, procStat, readProcText } from '../src/sys/proc';
import { BenchError } from './util';

// Memory and CPU of processes, from /proc: PSS (proportional set size: private pages plus
// a fair share of the shared ones) from smaps_rollup, RSS, and CPU time from stat.

export interface MemSample {
  pssKiB: number;
  rssKiB: number;
  /** The anonymous part of PSS (heap, stacks): the process's own memory, whatever else runs. */
  pssAnonKiB: number;
}

/** PSS and RSS of one process, or null when it is gone. */
export function readMem(pid: number): MemSample | null {
  const text = readProcText(`/proc/${pid}/smaps_rollup`);
  if (text === null) return null;
  const pss = /^Pss:\s+(\d+) kB/m.exec(text);
  const rss = /^Rss:\s+(\d+) kB/m.exec(text);
  const anon = /^Pss_Anon:\s+(\d+) kB/m.exec(text);
  if (!pss || !rss) return null;
  return { pssKiB: Number(pss[1]), rssKiB: Number(rss[1]), pssAnonKiB: anon ? Number(anon[1]) : NaN };
}

/**
 * Where a process's private memory lies, by mapping (/proc/PID/smaps), KiB of private dirty pages:
 * - `v8`: V8's heap. Its pages are anonymous mappings at addresses aligned to 256 KiB (its
 *   page size; it places them at random high addresses), large objects included, plus its
 *   executable code pages (rwx);
 * - `malloc`: the C heap (brk) and the other anonymous mappings: Node's own allocations,
 *   array buffers' contents (xterm's cells, the archived history), allocator arenas;
 * - `stacks`: the main thread's and the threads' stacks (anonymous, 8 MiB reserved);
 * - `files`: pages of mapped files written to (relocations of node and its libraries).
 * A heuristic by shape, not V8's own accounting: a large malloc'd block lands on a 256 KiB
 * boundary 1 time in 64.
 */
export interface MemParts {
  v8: number;
  malloc: number;
  stacks: number;
  files: number;
}

const noParts = (): MemParts => ({ v8: 0, malloc: 0, stacks: 0, files: 0 });

export function readMemParts(pid: number): MemParts | null {
  const text = readProcText(`/proc/${pid}/smaps`);
  if (text === null) return null;
  const parts = noParts();
  let kind: keyof MemParts = 'malloc';
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const start = parseInt(head[1]!, 16);
      const kib = (parseInt(head[2]!, 16) - start) / 1024;
      const name = head[4]!;
      if (name === '[stack]' || (name === '' && kib >= 8192)) kind = 'stacks';
      else if (name === '[heap]') kind = 'malloc';
      else if (name !== '') kind = 'files';
      else if (start % (256 * 1024) === 0 || head[3]!.includes('x')) kind = 'v8';
      else kind = 'malloc';
      continue;
    }
    const priv = /^Private_Dirty:\s+(\d+) kB/.exec(line);
    if (priv) parts[kind] += Number(priv[1]);
  }
  return parts;
}

/** readMemParts of `pids` summed and divided by `per`, in MiB, as figure values named `prefix` + part. */
export function memPartsValues(pids: number[], per: number, prefix = ''): Record<string, number> {
  const sum = noParts();
  for (const pid of pids) {
    const p = readMemParts(pid);
    if (!p) continue;
    for (const k of Object.keys(sum) as Array<keyof MemParts>) sum[k] += p[k];
  }
  return Object.fromEntries(Object.entries(sum).map(([k, v]) => [`${prefix}${k}_mib`, v / per / 1024]));
}

let ticks = 100;
/** Clock ticks per second for /proc/PID/stat (always 100 on Linux/x86). */
export function setClockTicks(n: number): void {
  ticks = n;
}

/** User + system CPU seconds a process has used so far, or null when it is gone. */
export function readCpuSeconds(pid: number): number | null {
  const st = procStat(pid);
  if (!st || !Number.isFinite(st.utimeTicks) || !Number.isFinite(st.stimeTicks)) return null;
  return (st.utimeTicks + st.stimeTicks) / ticks;
}

/** The machine's CPU time so far, all cores, in clock ticks (/proc/stat): busy, and in total. */
export function machineCpu(): MachineCpu {
  const cpu = readMachineCpu();
  if (cpu === null) throw new BenchError('cannot read /proc/stat');
  return cpu;
}

export interface SamplerResult {
  samples: number;
  peakPssKiB: number;
  peakRssKiB: number;
  /** CPU seconds the sampled processes used between start and the last sample. */
  cpuSeconds: number;
}

/**
 * Samples the summed memory of `pids` every `intervalMs` (a process that is gone counts 0),
 * keeping the peak; also the CPU time they used meanwhile.
 */
export class Sampler {
  private timer: NodeJS.Timeout | null = null;
  private peakPss = 0;
  private peakRss = 0;
  private samples = 0;
  private readonly cpu0 = new Map<number, number>();
  private readonly cpuLast = new Map<number, number>();

  /** Pids sampled: the servers, and the helpers found under them (see helperComm). */
  private readonly pids: number[];

  /**
   * `helperComm`: children of `pids` with this command name count with their parent (our
   * supervisor's native relay and flood pump): memory while they run, CPU from the start
   * (or from when first seen; up to one interval of a helper's last CPU may be missed).
   */
  constructor(
    private readonly servers: number[],
    private readonly intervalMs = 50,
    private readonly helperComm: string | null = null,
  ) {
    this.pids = [...servers];
  }

  start(): this {
    this.findHelpers();
    for (const pid of this.pids) {
      const c = readCpuSeconds(pid);
      if (c !== null) {
        this.cpu0.set(pid, c);
        this.cpuLast.set(pid, c);
      }
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  private findHelpers(): void {
    if (!this.helperComm) return;
    for (const server of this.servers) {
      for (const child of childPids(server)) {
        if (this.pids.includes(child) || commOf(child) !== this.helperComm) continue;
        this.pids.push(child);
        if (this.timer) this.cpu0.set(child, 0); // started during the measurement
      }
    }
  }

  sample(): void {
    this.findHelpers();
    let pss = 0;
    let rss = 0;
    let any = false;
    for (const pid of this.pids) {
      const m = readMem(pid);
      if (m) {
        any = true;
        pss += m.pssKiB;
        rss += m.rssKiB;
      }
      const c = readCpuSeconds(pid);
      if (c !== null) this.cpuLast.set(pid, c);
    }
    if (!any) return;
    this.samples++;
    this.peakPss = Math.max(this.peakPss, pss);
    this.peakRss = Math.max(this.peakRss, rss);
  }

  stop(): SamplerResult {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    let cpu = 0;
    for (const [pid, c0] of this.cpu0) cpu += (this.cpuLast.get(pid) ?? c0) - c0;
    return { samples: this.samples, peakPssKiB: this.peakPss, peakRssKiB: this.peakRss, cpuSeconds: cpu };
  }
}

/** Direct children of a process (Linux 3.5+: /proc/PID/task/TID/children), [] when gone. */
export function childPids(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter((x) => x.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** The command name of a process, or null when it is gone. */
export function commOf(pid: number): string | null {
  return procStat(pid)?.comm ?? null;
}
