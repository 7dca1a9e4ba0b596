import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessTree, leftTheTree } from '../../src/sys/process-tree';
import { cmdline, pidsWithEnv } from '../../src/sys/proc';

// What `agent kill` names as left running: the processes with the run's marker outside the
// agent's tree. An agent that keeps starting short children (a shell's `sleep 1` loop)
// must not have them named: a fresh-clone run once saw `18436 (sleep 1)` beside the real
// daemon, a child started between the tree's walk and the look for the marker.

const MARKER = 'SYMPOSIUM_TEST_RUN';
let agent: ChildProcess | null = null;
let daemon = 0;

afterEach(() => {
  for (const pid of [agent?.pid ?? 0, daemon]) {
    try {
      if (pid > 0) process.kill(pid === daemon ? pid : -pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  agent = null;
  daemon = 0;
});

describe('leftTheTree', () => {
  it('names a daemon of the run, never a child the agent has just started', async () => {
    const value = `t${process.pid}@${Date.now()}`;
    // A daemon (double fork, then the shell goes on starting a child after another).
    agent = spawn('bash', ['-c', '(setsid sleep 1001 &); while :; do /bin/true; done'], {
      env: { ...process.env, [MARKER]: value },
      detached: true,
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    while (daemon === 0 && Date.now() < deadline) {
      daemon = pidsWithEnv(MARKER, value).find((p) => cmdline(p) === 'sleep 1001') ?? 0;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(daemon).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const tree = new ProcessTree([agent.pid!], true);
      for (const p of leftTheTree(MARKER, value, tree, [])) seen.add(`${p.pid === daemon ? 'daemon' : p.pid} (${p.command})`);
    }
    expect([...seen]).toEqual(['daemon (sleep 1001)']);
  });
});
