import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidsWithEnv } from '../../src/sys/proc';
import { type Sandbox, isStandby, sandboxPerTest, waitFor } from '../helpers/sandbox';

// Issue 7: the truth about every agent after crashes, file loss and reboots; restart and
// prune. Real supervisors killed with SIGKILL, real orphaned process groups.

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });

/** An agent that outlives its terminal: it ignores the hangup a dying pty sends. */
const STUBBORN = ['sh', '-c', 'trap "" HUP; while :; do sleep 1; done'];

function spawnOk(s: Sandbox, id: string, cmd: string[], extra: string[] = [], workdir = s.work): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', workdir, ...extra, '--', ...cmd]);
  expect(r, r.stderr).toEqual({ code: 0, stdout: 'Agent session spawned successfully\n', stderr: '' });
}

interface ListedSession {
  id: string;
  backend: string;
  status: string;
  reason: string | null;
  pid: number | null;
  supervisorPid: number | null;
  command: string[];
  workdir: string;
  cols: number | null;
  rows: number | null;
  exitCode: number | null;
}

function listJson(s: Sandbox): Map<string, ListedSession> {
  const r = s.run(['agent', 'list', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return new Map((JSON.parse(r.stdout) as ListedSession[]).map((x) => [x.id, x]));
}

function record(s: Sandbox, id: string): Record<string, unknown> {
  return s.readSessions()[id]!;
}

/** Live, non-zombie processes of a process group. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

describe('a supervisor killed with SIGKILL', () => {
  it('shows as Crashed "supervisor died" while its agent still runs; kill ends the orphaned group; restart starts it again', async () => {
    const s = sandbox();
    spawnOk(s, 'orphan', STUBBORN);
    spawnOk(s, 'again', STUBBORN, [], path.join(s.work));
    spawnOk(s, 'bystander', ['sleep', '300']);
    const o = record(s, 'orphan');
    const a = record(s, 'again');
    process.kill(o.supervisor_pid as number, 'SIGKILL');
    process.kill(a.supervisor_pid as number, 'SIGKILL');
    await waitFor(() => !alive(o.supervisor_pid as number) && !alive(a.supervisor_pid as number));
    expect(groupMembers(o.agent_pid as number).length).toBeGreaterThan(0);

    const list = s.run(['agent', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(
      `  orphan - Crashed (symposium-agent-orphan)  [supervisor died (its agent, process group ${o.agent_pid}, still runs: \`agent kill orphan\` ends it)]`,
    );
    expect(list.stdout).toMatch(/ {2}bystander - Running \(symposium-agent-bystander\)/);
    // The record keeps the process group, so that kill can still end it.
    expect(record(s, 'orphan')).toMatchObject({ status: 'Crashed', agent_pid: o.agent_pid });
    expect(String(record(s, 'orphan').status_reason)).toMatch(/^supervisor died/);

    // Verbs that need a live session say so and what to do.
    const send = s.run(['agent', 'send', 'orphan', 'hi']);
    expect(send.code).toBe(1);
    expect(send.stderr).toMatch(/^Error: Agent session orphan has ended \(supervisor died.*\): cannot send to it\. Use `agent restart orphan` to start it again or `agent kill orphan` to remove it\.\n$/);

    const kill = s.run(['agent', 'kill', 'orphan']);
    expect(kill).toEqual({ code: 0, stdout: 'Agent session orphan killed\n', stderr: '' });
    await waitFor(() => groupMembers(o.agent_pid as number).length === 0, 10_000);
    expect(s.readSessions().orphan).toBeUndefined();
    expect(fs.existsSync(path.join(s.home, 'sessions', 'orphan'))).toBe(false);

    // restart: the orphan of the old run is ended, a new run starts with the same settings.
    const restart = s.run(['agent', 'restart', 'again']);
    expect(restart).toEqual({ code: 0, stdout: 'Agent session again restarted\n', stderr: '' });
    expect(groupMembers(a.agent_pid as number)).toEqual([]);
    const after = listJson(s).get('again')!;
    expect(after).toMatchObject({ status: 'Running', backend: 'pty', command: STUBBORN, workdir: s.work, reason: null });
    expect(after.pid).not.toBe(a.agent_pid);
    expect(after.supervisorPid).not.toBe(a.supervisor_pid);
    expect(alive(after.supervisorPid!)).toBe(true);
    expect(listJson(s).get('bystander')!.status).toBe('Running');
  });

  it('once its orphaned agent ends too, the reason says only "supervisor died"', async () => {
    const s = sandbox();
    spawnOk(s, 'b1', ['bash', '--norc', '--noprofile', '-i']);
    const r = record(s, 'b1');
    process.kill(r.supervisor_pid as number, 'SIGKILL');
    // bash ends on the hangup of its terminal.
    await waitFor(() => groupMembers(r.agent_pid as number).length === 0, 10_000);
    expect(s.run(['agent', 'list']).stdout).toContain('  b1 - Crashed (symposium-agent-b1)  [supervisor died]\n');
  });
});

describe('a session whose start was interrupted', () => {
  it('stays Starting during its grace period, then shows as Crashed "never started"', () => {
    const s = sandbox();
    spawnOk(s, 'real', ['sleep', '300']);
    const file = s.readSessions();
    const stub = (secsAgo: number) => ({
      ...file.real!,
      status: 'Starting',
      created_at: { secs_since_epoch: Math.floor(Date.now() / 1000) - secsAgo, nanos_since_epoch: 0 },
      supervisor_pid: null,
      agent_pid: null,
    });
    // A spawn killed right after it reserved the id: nothing runs, nothing on disk.
    file.young = { ...stub(1), uuid: 'young', tmux_session_name: 'symposium-agent-young' };
    file.old = { ...stub(120), uuid: 'old', tmux_session_name: 'symposium-agent-old' };
    fs.writeFileSync(s.sessionsFile(), JSON.stringify(file, null, 2));
    const list = s.run(['agent', 'list']).stdout;
    expect(list).toContain('  young - Starting (symposium-agent-young)\n');
    expect(list).toContain('  old - Crashed (symposium-agent-old)  [never started (the command that started it was interrupted)]\n');
    expect(s.run(['agent', 'restart', 'old'])).toEqual({ code: 0, stdout: 'Agent session old restarted\n', stderr: '' });
    expect(listJson(s).get('old')).toMatchObject({ status: 'Running', command: ['sleep', '300'] });
  });
});

describe('agent restart', () => {
  it('is refused with a clear error while the session runs', () => {
    const s = sandbox();
    spawnOk(s, 'live', ['sleep', '300']);
    const before = fs.readFileSync(s.sessionsFile(), 'utf8');
    const r = s.run(['agent', 'restart', 'live']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Error: Agent session live is running: only a stopped or crashed session can be restarted. Attach to it with `agent attach live`, or end it with `agent kill live` and spawn it again.\n',
    });
    expect(fs.readFileSync(s.sessionsFile(), 'utf8')).toBe(before);
    expect(s.run(['agent', 'restart', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'Error: Agent session nope not found\n' });
  });

  it('after a reboot (every process gone, runtime directory wiped) brings every session back with its size', async () => {
    const s = sandbox();
    spawnOk(s, 'r1', ['bash', '--norc', '--noprofile', '-i'], ['--cols', '100', '--rows', '30']);
    spawnOk(s, 'r2', STUBBORN, ['--size', 'smallest']);
    spawnOk(s, 'done', ['sh', '-c', 'echo finished; exit 0']);
    await waitFor(() => record(s, 'done').status === 'Stopped', 15_000);
    const old = s.readSessions();
    // The "reboot": supervisors and agents die at once, /run is empty afterwards.
    for (const id of ['r1', 'r2']) {
      process.kill(-(old[id]!.agent_pid as number), 'SIGKILL');
      process.kill(old[id]!.supervisor_pid as number, 'SIGKILL');
    }
    await waitFor(() => ['r1', 'r2'].every((id) => !alive(old[id]!.supervisor_pid as number) && groupMembers(old[id]!.agent_pid as number).length === 0));
    // The standby waiting for the next spawn dies with them (and writes nothing more there).
    for (const pid of pidsWithEnv('SYMPOSIUM_HOME', s.home).filter(isStandby)) process.kill(pid, 'SIGKILL');
    await waitFor(() => pidsWithEnv('SYMPOSIUM_HOME', s.home).filter(isStandby).length === 0);
    fs.rmSync(s.runtime, { recursive: true, force: true });

    const list = s.run(['agent', 'list']);
    expect(list.stdout).toMatch(
      /^Active agent sessions:\n {2}r1 - Crashed \(symposium-agent-r1\) {2}\[supervisor died\]\n {2}r2 - Crashed \(symposium-agent-r2\) {2}\[supervisor died\]\n {2}done - Stopped \(symposium-agent-done\) {2}\[exited[^\]]*\]\n$/,
    );
    for (const id of ['r1', 'r2', 'done']) {
      const r = s.run(['agent', 'restart', id]);
      expect(r, r.stderr).toEqual({ code: 0, stdout: `Agent session ${id} restarted\n`, stderr: '' });
    }
    const now = listJson(s);
    expect(now.get('r1')).toMatchObject({ status: 'Running', cols: 100, rows: 30, command: ['bash', '--norc', '--noprofile', '-i'] });
    expect(now.get('r2')).toMatchObject({ status: 'Running', command: STUBBORN });
    // The quick one ran again: a fresh exit, a fresh final screen.
    await waitFor(() => listJson(s).get('done')?.status === 'Stopped', 15_000);
    expect(s.run(['agent', 'capture', 'done']).stdout).toBe('finished\n');
    // The restarted shell works.
    expect(s.run(['agent', 'send', 'r1', 'echo back=$((6*7))', '--enter']).code).toBe(0);
    await waitFor(() => s.run(['agent', 'capture', 'r1']).stdout.includes('back=42'));
  });

  it('never signals a recycled pid: after a reboot the recorded pids belong to other processes', async () => {
    const s = sandbox();
    spawnOk(s, 'x', ['sleep', '300']);
    const rec = record(s, 'x');
    process.kill(-(rec.agent_pid as number), 'SIGKILL');
    process.kill(rec.supervisor_pid as number, 'SIGKILL');
    await waitFor(() => !alive(rec.supervisor_pid as number));
    // Strangers now hold the recorded pids: a process group leader and a lone process.
    const stranger = spawn('sleep', ['300'], { detached: true, stdio: 'ignore', env: { PATH: process.env.PATH } });
    const other = spawn('sleep', ['300'], { stdio: 'ignore' });
    try {
      const file = s.readSessions();
      file.x!.agent_pid = stranger.pid!;
      file.x!.supervisor_pid = other.pid!;
      fs.writeFileSync(s.sessionsFile(), JSON.stringify(file, null, 2));
      expect(s.run(['agent', 'list']).stdout).toContain('  x - Crashed (symposium-agent-x)  [supervisor died]\n');
      expect(s.run(['agent', 'kill', 'x']).code).toBe(0);
      expect(alive(stranger.pid!)).toBe(true);
      expect(alive(other.pid!)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
      other.kill('SIGKILL');
    }
  });
});

describe('adoption: live sessions missing from the file', () => {
  it('after `rm agent-sessions.json`, list shows every running agent again with its command, workdir and backend', async () => {
    const s = sandbox();
    const w2 = path.join(s.work, 'sub dir');
    fs.mkdirSync(w2);
    spawnOk(s, 'ad1', ['sleep', '300']);
    spawnOk(s, 'ad2', ['bash', '--norc', '--noprofile', '-i'], [], w2);
    spawnOk(s, 'ad3', ['sh', '-c', 'echo the end; exit 3']);
    await waitFor(() => record(s, 'ad3').status === 'Crashed', 15_000);
    const before = listJson(s);
    fs.rmSync(s.sessionsFile());

    const list = s.run(['agent', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^Active agent sessions:\n {2}ad1 - Running \(symposium-agent-ad1\).*\n {2}ad2 - Running \(symposium-agent-ad2\).*\n {2}ad3 - Crashed \(symposium-agent-ad3\) {2}\[exited with code 3\]\n$/);
    const after = listJson(s);
    for (const id of ['ad1', 'ad2', 'ad3']) {
      const b = before.get(id)!;
      expect(after.get(id), id).toMatchObject({ backend: 'pty', status: b.status, command: b.command, workdir: b.workdir });
      // A running one is the same process; an ended one keeps its exit code.
      if (b.status === 'Running') expect(after.get(id)!.pid).toBe(b.pid);
      else expect(after.get(id)!.exitCode).toBe(3);
    }
    expect(after.get('ad2')!.workdir).toBe(w2);
    // Adopted records are whole records: the verbs work on them.
    expect(s.run(['agent', 'send', 'ad2', 'echo adopted=$((1+1))', '--enter']).code).toBe(0);
    await waitFor(() => s.run(['agent', 'capture', 'ad2']).stdout.includes('adopted=2'));
    expect(s.run(['agent', 'capture', 'ad3']).stdout).toBe('the end\n');
    expect(s.run(['agent', 'kill', 'ad1']).code).toBe(0);
    expect(Object.keys(s.readSessions()).sort()).toEqual(['ad2', 'ad3']);
  });

  it('a file restored from an old copy is corrected from the sessions themselves', async () => {
    const s = sandbox();
    spawnOk(s, 'keep', ['sleep', '300']);
    spawnOk(s, 'swap', ['sleep', '300']);
    const oldCopy = fs.readFileSync(s.sessionsFile(), 'utf8');
    // After the copy: swap is replaced by another run, a new session appears.
    expect(s.run(['agent', 'kill', 'swap']).code).toBe(0);
    spawnOk(s, 'swap', ['cat'], [], '/');
    spawnOk(s, 'later', ['sleep', '301']);
    fs.writeFileSync(s.sessionsFile(), oldCopy);

    const now = listJson(s);
    expect([...now.keys()]).toEqual(['keep', 'swap', 'later']);
    expect(now.get('swap')).toMatchObject({ status: 'Running', command: ['cat'], workdir: '/' });
    expect(now.get('later')).toMatchObject({ status: 'Running', command: ['sleep', '301'], workdir: s.work });
    // The corrected record is the live run's: kill ends exactly it.
    const pid = now.get('swap')!.supervisorPid!;
    expect(s.run(['agent', 'kill', 'swap']).code).toBe(0);
    await waitFor(() => !alive(pid));
  });

  it("never adopts another home's sessions sharing the runtime directory", () => {
    const s = sandbox();
    const otherHome = path.join(s.dir, 'other-home');
    const theirs = { env: { SYMPOSIUM_HOME: otherHome } };
    try {
      const r = s.run(['agent', 'spawn', '--uuid', 'theirs', '--workdir', s.work, '--', 'sleep', '300'], theirs);
      expect(r.code, r.stderr).toBe(0);
      spawnOk(s, 'mine', ['sleep', '300']);
      fs.rmSync(s.sessionsFile());
      expect(s.run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}mine - Running[^\n]*\n$/);
      expect(s.run(['agent', 'list'], theirs).stdout).toMatch(/^Active agent sessions:\n {2}theirs - Running[^\n]*\n$/);
    } finally {
      s.run(['agent', 'kill', 'theirs'], theirs);
    }
  });
});

describe('agent prune', () => {
  it('removes every ended session with its kept screen and orphan, and leaves running ones alone', async () => {
    const s = sandbox();
    spawnOk(s, 'ok', ['sh', '-c', 'exit 0']);
    spawnOk(s, 'bad', ['sh', '-c', 'exit 3']);
    spawnOk(s, 'lost', STUBBORN);
    spawnOk(s, 'alive', ['sleep', '300']);
    const lost = record(s, 'lost');
    process.kill(lost.supervisor_pid as number, 'SIGKILL');
    await waitFor(() => record(s, 'ok').status === 'Stopped' && record(s, 'bad').status === 'Crashed', 15_000);
    await waitFor(() => !alive(lost.supervisor_pid as number));
    // The final screen is written just after the record says the agent ended (agent-end.ts).
    for (const id of ['ok', 'bad']) await waitFor(() => fs.existsSync(path.join(s.home, 'sessions', id, 'final-screen.json')), 10_000);

    const r = s.run(['agent', 'prune']);
    expect(r).toEqual({ code: 0, stdout: 'Pruned 3 ended agent sessions: ok, bad, lost\n', stderr: '' });
    expect(Object.keys(s.readSessions())).toEqual(['alive']);
    expect(fs.readdirSync(path.join(s.home, 'sessions'))).toEqual(['alive']);
    await waitFor(() => groupMembers(lost.agent_pid as number).length === 0, 10_000);
    expect(listJson(s).get('alive')!.status).toBe('Running');
    expect(s.run(['agent', 'prune'])).toEqual({ code: 0, stdout: 'No ended agent sessions to prune\n', stderr: '' });
  });
});
