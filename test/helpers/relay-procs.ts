import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { pidAlive, procStat } from '../../src/sys/proc';
import { commOf } from '../../bench/memory';
import type { Sandbox } from './sandbox';

// The supervisor's native helpers as /proc shows them: the key relay and the flood pump
// are one binary (native/relay.c), told apart by their arguments.

/** The supervisor's live child of that kind, if one runs (comm "symposium-relay", parent `sup`). */
export function nativeChild(sup: number, kind: 'relay' | 'pump'): number | null {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = procStat(Number(name));
      if (!st || st.ppid !== sup || st.state === 'Z' || commOf(st.pid) !== 'symposium-relay') continue;
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
export { pidAlive as alive };

export function supervisorLog(sb: Sandbox, id: string): string {
  return fs.readFileSync(path.join(sb.home, 'sessions', id, 'supervisor.log'), 'utf8');
}

/** Resident memory of a process, in KiB. */
export function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

/** Spawns a pty agent at 80x24 through the CLI; returns its supervisor's pid. */
export function spawnAgent(sb: Sandbox, id: string, argv: string[], env: NodeJS.ProcessEnv = {}): number {
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--cols', '80', '--rows', '24', '--', ...argv], { env });
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return sb.readSessions()[id]!.supervisor_pid as number;
}
