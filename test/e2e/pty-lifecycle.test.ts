import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyTerminal } from '../helpers/pty-terminal';
import { CLI, Sandbox, waitFor } from '../helpers/sandbox';
import { SOCKET_NAME } from '../../src/standby/wire';
import { cmdline, pidsWithEnv, procStat } from '../../src/sys/proc';

// The pty backend's lifecycle: output printed right before an exit is all kept, `kill`
// ends an agent that ignores the polite signals, and everything works with no tmux at all.

let sb: Sandbox;
afterEach(() => sb?.dispose());

function spawn(id: string, argv: string[], env: NodeJS.ProcessEnv = {}): void {
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--cols', '100', '--rows', '30', '--', ...argv], { env });
  expect(r).toMatchObject({ code: 0, stdout: 'Agent session spawned successfully\n', stderr: '' });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

function socketFiles(): string[] {
  // Supervisors' sockets (the standby's, waiting for the next spawn, is none).
  return fs.existsSync(sb.runtime) ? fs.readdirSync(sb.runtime).filter((f) => f.endsWith('.sock') && f !== SOCKET_NAME) : [];
}

// Generous: on a loaded CI machine each CLI start alone can take seconds.
describe('pty lifecycle', { timeout: 120_000 }, () => {
  it('keeps the last 100 KB printed right before the agent exits, in order, up to the last line', async () => {
    sb = new Sandbox();
    // ~200 KB of numbered lines, then an immediate exit; eight at once, for the race. (A
    // supervisor that let go of the pty as soon as the child was gone, without waiting for
    // the output to go quiet, lost up to 12 KB in 10 of 30 such runs under load.)
    const runs = Array.from({ length: 8 }, (_, k) => ({
      id: `f${k + 1}`,
      lines: 9000 + 120 * k, // within the 10 000 lines of scrollback
      code: k % 3 === 1 ? 7 : 0,
      status: k % 3 === 1 ? 'Crashed' : 'Stopped',
    }));
    for (const r of runs) spawn(r.id, ['bash', '-c', `seq -f 'line %06g of the flood' 1 ${r.lines}; exit ${r.code}`]);
    for (const r of runs) {
      const w = sb.run(['agent', 'wait', r.id, '--exit', '--timeout', '40'], { timeoutMs: 50_000 });
      expect(w.code, w.stderr).toBe(r.code);
      await waitFor(() => sb.readSessions()[r.id]?.status === r.status, 30_000);
      const cap = sb.run(['agent', 'capture', r.id, '--scrollback']);
      expect(cap.code, cap.stderr).toBe(0);
      const lines = cap.stdout.split('\n').filter((l) => l.startsWith('line '));
      expect(lines.length).toBe(r.lines);
      lines.forEach((l, i) => {
        if (l !== `line ${String(i + 1).padStart(6, '0')} of the flood`) expect(l).toBe(`line ${i + 1} …`);
      });
      const tail = sb.run(['agent', 'capture', r.id]).stdout.trimEnd().split('\n');
      expect(tail[tail.length - 1]).toBe(`line ${String(r.lines).padStart(6, '0')} of the flood`);
      expect(sb.readSessions()[r.id]).toMatchObject({ status: r.status, exit_code: r.code });
    }
    // Each supervisor is gone once its agent ended, and its socket with it.
    await waitFor(() => socketFiles().length === 0, 30_000);
  });

  it('kill ends an agent whose processes ignore SIGTERM and SIGHUP: SIGKILL after the grace period, nothing left', async () => {
    sb = new Sandbox();
    const script = path.join(sb.work, 'stubborn.sh');
    // A child and a grandchild in the agent's process group, all ignoring TERM and HUP.
    fs.writeFileSync(script, "trap '' TERM HUP\nbash -c 'sleep 1000 & sleep 1000' &\necho stubborn ready\nwhile :; do sleep 1; done\n");
    spawn('k1', ['bash', script]);
    expect(sb.run(['agent', 'wait', 'k1', '--text', 'stubborn ready', '--timeout', '40'], { timeoutMs: 50_000 }).code).toBe(0);
    const rec = sb.readSessions().k1!;
    const agentPid = rec.agent_pid as number;
    const supervisorPid = rec.supervisor_pid as number;
    await waitFor(() => groupMembers(agentPid).length >= 4, 30_000); // bash, bash -c, 2 sleeps (+ the loop's sleep)
    expect(socketFiles().length).toBe(1);

    const start = Date.now();
    const k = sb.run(['agent', 'kill', 'k1'], { timeoutMs: 30_000 });
    expect(k).toMatchObject({ code: 0, stdout: 'Agent session k1 killed\n', stderr: '' });
    expect(Date.now() - start).toBeGreaterThan(1000); // it had to wait for the grace period
    await waitFor(() => groupMembers(agentPid).length === 0, 20_000);
    await waitFor(() => !alive(supervisorPid), 20_000);
    expect(socketFiles()).toEqual([]);
    expect(fs.existsSync(path.join(sb.home, 'sessions', 'k1'))).toBe(false);
    expect(sb.readSessions()).toEqual({});
    expect(sb.run(['agent', 'list']).stdout).toBe('No active agent sessions\n');
  });

  it('kill ends every process that descends from the agent, in its own session too; one that daemonised itself is left, and named', async () => {
    sb = new Sandbox();
    // As a wrapper does: a child in a session of its own (setsid), still the agent's
    // descendant; and a daemon (double fork): its parent exits at once, it is init's.
    const script = path.join(sb.work, 'wrapper.sh');
    // It ignores hangups: it outlives a supervisor killed with SIGKILL (then the CLI ends it).
    fs.writeFileSync(script, "trap '' HUP\n" + 'setsid sleep 1000 &\necho "child $!"\n(setsid sleep 1001 &)\nsleep 0.2\necho wrapper ready\nwhile :; do sleep 1; done\n');
    spawn('k2', ['bash', script]);
    spawn('k3', ['bash', script]);
    const pids: Record<string, { child: number; daemon: number; agent: number; supervisor: number }> = {};
    // The run marker every process of the agent carries (agent-marker.ts).
    const runOf = (id: string) => {
      const cfg = JSON.parse(fs.readFileSync(path.join(sb.home, 'sessions', id, 'supervisor.json'), 'utf8')) as { createdAtMs: number };
      return `${id}@${cfg.createdAtMs}`;
    };
    for (const id of ['k2', 'k3']) {
      const w = sb.run(['agent', 'wait', id, '--text', 'child \\d+[\\s\\S]*wrapper ready', '--timeout', '40'], { timeoutMs: 50_000 });
      expect(w.code, w.stderr).toBe(0);
      const rec = sb.readSessions()[id]!;
      const agent = rec.agent_pid as number;
      const child = Number(/child (\d+)/.exec(w.stdout)![1]);
      const daemon = await waitFor(() => pidsWithEnv('SYMPOSIUM_AGENT_RUN', runOf(id)).find((p) => cmdline(p) === 'sleep 1001'));
      expect(procStat(child)!.sid).not.toBe(procStat(agent)!.sid);
      pids[id] = { child, daemon, agent, supervisor: rec.supervisor_pid as number };
    }
    // Through the supervisor.
    const k = sb.run(['agent', 'kill', 'k2'], { timeoutMs: 30_000 });
    expect(k).toMatchObject({ code: 0, stdout: `Agent session k2 killed\nLeft running, daemonised away from the agent (as under tmux): ${pids.k2!.daemon} (sleep 1001)\n` });
    await waitFor(() => !alive(pids.k2!.child), 20_000);
    expect(alive(pids.k2!.daemon)).toBe(true);
    // Its supervisor killed first: the CLI ends the orphans itself.
    process.kill(pids.k3!.supervisor, 'SIGKILL');
    await waitFor(() => !alive(pids.k3!.supervisor));
    const k3 = sb.run(['agent', 'kill', 'k3'], { timeoutMs: 30_000 });
    expect(k3).toMatchObject({ code: 0, stdout: `Agent session k3 killed\nLeft running, daemonised away from the agent (as under tmux): ${pids.k3!.daemon} (sleep 1001)\n` });
    await waitFor(() => !alive(pids.k3!.child) && groupMembers(pids.k3!.agent).length === 0, 20_000);
    expect(alive(pids.k3!.daemon)).toBe(true);
    for (const id of ['k2', 'k3']) process.kill(pids[id]!.daemon, 'SIGKILL');
  });

  it('starts the CLI and the supervisor without NODE_EXTRA_CA_CERTS, and gives it back to the agent', () => {
    sb = new Sandbox();
    const certs = path.join(sb.dir, 'extra-ca.pem');
    fs.writeFileSync(certs, '');
    spawn('ca', ['sh', '-c', 'echo "agent has [$NODE_EXTRA_CA_CERTS] [${SYMPOSIUM_HELD_NODE_EXTRA_CA_CERTS-unset}]"; exec cat'], { NODE_EXTRA_CA_CERTS: certs });
    const w = sb.run(['agent', 'wait', 'ca', '--text', 'agent has \\[.*\\] \\[.*\\]', '--timeout', '20'], { timeoutMs: 30_000 });
    expect(w.stdout).toContain(`agent has [${certs}] [unset]`);
    const pid = sb.readSessions().ca!.supervisor_pid as number;
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    expect(environ).not.toContain(`NODE_EXTRA_CA_CERTS=${certs}`);
    expect(environ).toContain(`SYMPOSIUM_HELD_NODE_EXTRA_CA_CERTS=${certs}`);
    // The tmux backend's agents get it too (the CLI put it back before starting anything).
    const t = sb.run(['agent', 'spawn', '--uuid', 'cat', '--backend', 'tmux', '--workdir', sb.work, '--', 'sh', '-c', 'echo "tmux agent has [$NODE_EXTRA_CA_CERTS]"; exec cat'], { env: { NODE_EXTRA_CA_CERTS: certs } });
    expect(t.code).toBe(0);
    expect(sb.run(['agent', 'wait', 'cat', '--text', 'tmux agent has \\[.*\\]', '--timeout', '20'], { timeoutMs: 30_000 }).stdout).toContain(`tmux agent has [${certs}]`);
  });

  it("sets the allocator's variables for the supervisor only: the agent gets the user's, or none", () => {
    sb = new Sandbox();
    const show = 'echo "agent has [${MALLOC_ARENA_MAX-unset}] [${MALLOC_TRIM_THRESHOLD_-unset}] [${SYMPOSIUM_SUPERVISOR_SET-unset}]"; exec cat';
    spawn('m1', ['sh', '-c', show]);
    spawn('m2', ['sh', '-c', show], { MALLOC_ARENA_MAX: '7' });
    const seen = (id: string): string => sb.run(['agent', 'wait', id, '--text', 'agent has \\[.*\\] \\[.*\\] \\[.*\\]', '--timeout', '20'], { timeoutMs: 30_000 }).stdout;
    expect(seen('m1')).toContain('agent has [unset] [unset] [unset]');
    expect(seen('m2')).toContain('agent has [7] [unset] [unset]');
    for (const id of ['m1', 'm2']) {
      const pid = sb.readSessions()[id]!.supervisor_pid as number;
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      expect(environ).toContain('MALLOC_ARENA_MAX=1');
      expect(environ).toContain('MALLOC_TRIM_THRESHOLD_=65536');
    }
  });

  it('works with no tmux on PATH: spawn, list, send, capture, attach, detach, kill', async () => {
    sb = new Sandbox();
    // PATH holds only what the agent and the CLI need, and no tmux.
    const bin = path.join(sb.dir, 'bin');
    fs.mkdirSync(bin);
    for (const tool of ['bash', 'sh', 'cat', 'sleep', 'stty', 'env', 'ls', 'echo', 'tty']) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found.startsWith('/')) fs.symlinkSync(found, path.join(bin, tool));
    }
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const env = { PATH: bin };
    expect(spawnSync('bash', ['-c', 'command -v tmux'], { env: { ...sb.env, ...env } }).status).not.toBe(0);

    spawn('t1', ['bash', '--norc', '--noprofile', '-i'], { ...env, PS1: 'no-tmux$ ' });
    expect(sb.readSessions().t1).toMatchObject({ status: 'Running', backend: 'pty' });
    expect(sb.run(['agent', 'list'], { env }).stdout).toMatch(/^Active agent sessions:\n {2}t1 - Running \(symposium-agent-t1\)/);
    expect(sb.run(['agent', 'send', 't1', 'echo "sum=$((40 + 2))"', '--enter'], { env })).toMatchObject({ code: 0 });
    expect(sb.run(['agent', 'wait', 't1', '--text', 'sum=42', '--timeout', '40'], { env, timeoutMs: 50_000 }).code).toBe(0);
    expect(sb.run(['agent', 'capture', 't1'], { env }).stdout).toContain('sum=42');

    // Attach from a terminal the test drives itself.
    const t = new PtyTerminal([process.execPath, CLI, 'agent', 'attach', 't1'], { cols: 100, rows: 30, env: { ...sb.env, ...env }, cwd: sb.work });
    try {
      await t.waitText(/sum=42/);
      t.write('echo "typed $(tty)"\r');
      await t.waitText(/typed \/dev\/pts\/\d+/);
      t.write('\x1c');
      expect(await t.exited).toBe(0);
      expect(t.text()).toContain('[detached from t1]');
    } finally {
      t.kill();
    }
    expect(sb.run(['agent', 'capture', 't1'], { env }).stdout).toMatch(/typed \/dev\/pts\/\d+/);
    expect(sb.readSessions().t1?.last_attached).not.toBeNull();

    const agentPid = sb.readSessions().t1!.agent_pid as number;
    expect(sb.run(['agent', 'kill', 't1'], { env })).toMatchObject({ code: 0, stdout: 'Agent session t1 killed\n' });
    await waitFor(() => !alive(agentPid), 20_000);
    expect(socketFiles()).toEqual([]);
    expect(sb.run(['agent', 'list'], { env }).stdout).toBe('No active agent sessions\n');
    // No tmux server was started for this sandbox.
    expect(fs.readdirSync(sb.tmuxTmp)).toEqual([]);
  });
});
