import * as fs from 'node:fs';
import { procStat } from '../src/sys/proc';

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
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const pss = /^Pss:\s+(\d+) kB/m.exec(text);
  const rss = /^Rss:\s+(\d+) kB/m.exec(text);
  const anon = /^Pss_Anon:\s+(\d+) kB/m.exec(text);
  if (!pss || !rss) return null;
  return { pssKiB: Number(pss[1]), rssKiB: Number(rss[1]), pssAnonKiB: anon ? Number(anon[1]) : NaN };
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
