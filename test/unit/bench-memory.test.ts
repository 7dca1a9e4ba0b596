import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { machineCpu, readMemParts } from '../../bench/memory';

// The benchmark's account of where memory and CPU go: its parts must add up to what the
// kernel reports, so that the "where it goes" rows explain the figure above them.

describe('bench memory parts', () => {
  it('split a Node process private memory into parts that add up, most of it V8 and the C heap', async () => {
    // A Node process at rest, so that the two reads see the same pages.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 700));
      const pid = child.pid!;
      const parts = readMemParts(pid)!;
      const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const privateDirty = Number(/^Private_Dirty:\s+(\d+) kB/m.exec(rollup)![1]);
      expect(parts.v8 + parts.malloc + parts.stacks + parts.files).toBe(privateDirty);
      expect(parts.v8).toBeGreaterThan(1024);
      expect(parts.malloc).toBeGreaterThan(256);
      expect(parts.stacks).toBeGreaterThan(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(readMemParts(2 ** 22 + 1)).toBeNull();
  });

  it("reads the machine's CPU time: busy within total, both growing while this process works", () => {
    const a = machineCpu();
    const until = Date.now() + 150;
    while (Date.now() < until) Math.sqrt(Math.random());
    const b = machineCpu();
    expect(a.busy).toBeLessThanOrEqual(a.total);
    expect(b.busy).toBeGreaterThan(a.busy);
    expect(b.total - a.total).toBeGreaterThanOrEqual(b.busy - a.busy);
  });
});
