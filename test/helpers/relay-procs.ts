import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sandbox } from './sandbox';

// The supervisor's native helpers as /proc shows them: the key relay and the flood pump
// are one binary (native/relay.c), told apart by their arguments.

/** The supervisor's live child of that kind, if one runs (comm "symposium-relay", parent `sup`). */
export function nativeChild(sup: number, kind: 'relay' | 'pump'): number | null {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm !== 'symposium-relay' || ppid !== sup || /^\S+ \(.*\) Z/.test(stat)) continue;
      const isPump = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')[2] === 'pump';
      if (isPump === (kind === 'pump')) return Number(name);
    } catch {
      /* gone */
    }
  }
  return null;
}

export function openFiles(pid: number): string[] {
  const out: string[] = [];
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        out.push(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        /* closed meanwhile */
      }
    }
  } catch {
    /* gone */
  }
  return out;
}

/** Running (not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function supervisorLog(sb: Sandbox, id: string): string {
  return fs.readFileSync(path.join(sb.home, 'sessions', id, 'supervisor.log'), 'utf8');
}

/** Resident memory of a process, in KiB. */
export function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}
