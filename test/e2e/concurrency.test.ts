import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFile, encodeFile } from '../../src/store/codec';
import { CLI, type RunResult, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// Many CLI processes at once on one home (pty backend): the file stays valid and complete,
// duplicates are refused cleanly, nothing hangs; and the lock's stale and stuck cases.

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });

/** The file decodes, and re-encodes to exactly its own bytes (the documented layout). */
function checkFile(s: Sandbox): Record<string, Record<string, unknown>> {
  const text = fs.readFileSync(s.sessionsFile(), 'utf8');
  expect(encodeFile(decodeFile(text))).toBe(text);
  return JSON.parse(text) as Record<string, Record<string, unknown>>;
}

/** A user error: one `Error: …` line (maybe a second with advice), never a stack. */
function expectCleanError(r: RunResult): void {
  expect(r.stderr).toMatch(/^Error: \S/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

function leftovers(s: Sandbox): string[] {
  return fs.readdirSync(s.home).filter((f) => f !== 'agent-sessions.json' && f !== 'sessions');
}

/** Live supervisors of this sandbox, by the id in their title. */
function supervisorIds(s: Sandbox): string[] {
  const ids: string[] = [];
  for (const pid of s.processes()) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '');
      const m = /^symposium-supervisor (\S+)$/.exec(cmd);
      if (m) ids.push(m[1]!);
    } catch {
      /* gone */
    }
  }
  return ids.sort();
}

/**
 * `sb.runAsync` at a lower CPU priority: a storm of 50 processes on two cores would
 * otherwise starve the test file running next to this one.
 */
function runNice(s: Sandbox, args: string[], timeoutMs = 45_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn('nice', ['-n', '10', process.execPath, CLI, ...args], { env: s.env, cwd: s.work, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe('50 CLI processes at once', () => {
  it('keep the file valid and complete, refuse duplicates cleanly and never hang (3 storms)', async () => {
    const s = sandbox();
    const spawnArgs = (id: string) => ['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', 'sleep', '300'];
    expect(s.run(['agent', 'spawn', '--uuid', 'base', '--workdir', s.work, '--', 'sh', '-c', 'stty -echo; exec cat > typed.txt']).code).toBe(0);
    const expected = new Set(['base']);
    const timings: number[] = [];
    for (let round = 0; round < 3; round++) {
      // Victims for the kills, started together beforehand.
      const victims = Array.from({ length: 3 }, (_, i) => `k${round}-${i}`);
      const sameKill = `kk${round}`;
      const pre = await Promise.all([...victims, sameKill].map((id) => runNice(s, spawnArgs(id))));
      for (const r of pre) expect(r.code, r.stderr).toBe(0);

      // Pty spawns cost the most (a supervisor each): 9 of them, the rest is cheap.
      const distinct = Array.from({ length: 8 }, (_, i) => `d${round}-${i}`);
      const same = `same${round}`;
      type Job = { kind: string; id: string; args: string[] };
      const jobs: Job[] = [
        ...distinct.map((id) => ({ kind: 'spawn', id, args: spawnArgs(id) })),
        ...Array.from({ length: 6 }, () => ({ kind: 'spawn-same', id: same, args: spawnArgs(same) })),
        ...Array.from({ length: 12 }, () => ({ kind: 'list', id: '', args: ['agent', 'list'] })),
        ...Array.from({ length: 8 }, (_, i) => ({ kind: 'send', id: 'base', args: ['agent', 'send', 'base', `line-${round}-${i}`, '--enter'] })),
        ...Array.from({ length: 4 }, () => ({ kind: 'capture', id: 'base', args: ['agent', 'capture', 'base'] })),
        ...victims.map((id) => ({ kind: 'kill', id, args: ['agent', 'kill', id] })),
        ...Array.from({ length: 4 }, () => ({ kind: 'kill-same', id: sameKill, args: ['agent', 'kill', sameKill] })),
        ...Array.from({ length: 2 }, () => ({ kind: 'send-missing', id: 'nope', args: ['agent', 'send', 'nope', 'x'] })),
        ...Array.from({ length: 3 }, () => ({ kind: 'spawn-base', id: 'base', args: spawnArgs('base') })),
      ];
      expect(jobs).toHaveLength(50);
      const t0 = Date.now();
      // Every process must end by itself well before this kill-timer fires.
      const results = await Promise.all(jobs.map((j) => runNice(s, j.args)));
      const ms = Date.now() - t0;
      timings.push(ms);

      const by = (kind: string) => results.filter((_, i) => jobs[i]!.kind === kind);
      for (const [i, r] of results.entries()) expect(r.code, `${jobs[i]!.args.join(' ')}: ${r.stderr}`).not.toBe(-1);
      for (const r of by('spawn')) expect(`${r.code} ${r.stdout}${r.stderr}`).toBe('0 Agent session spawned successfully\n');
      const sameRes = by('spawn-same');
      expect(sameRes.filter((r) => r.code === 0)).toHaveLength(1);
      for (const r of sameRes.filter((r) => r.code !== 0)) expect(r, JSON.stringify(r)).toEqual({ code: 1, stdout: '', stderr: `Error: Agent session ${same} already exists\n` });
      for (const r of by('spawn-base')) expect(r, JSON.stringify(r)).toEqual({ code: 1, stdout: '', stderr: 'Error: Agent session base already exists\n' });
      for (const r of by('capture')) expect(r.code, r.stderr).toBe(0);
      for (const r of by('list')) {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^Active agent sessions:\n/);
        expect(r.stdout).toContain('  base - Running (symposium-agent-base)');
      }
      for (const r of by('send')) expect(r, r.stderr).toEqual({ code: 0, stdout: '', stderr: '' });
      for (const r of by('kill')) expect(r.code, r.stderr).toBe(0);
      // Racing kills of one id: each either ends it or finds it gone already.
      for (const r of by('kill-same')) {
        if (r.code !== 0) expect(r.stderr).toBe(`Error: Agent session ${sameKill} not found\n`);
      }
      expect(by('kill-same').some((r) => r.code === 0)).toBe(true);
      for (const r of by('send-missing')) expect(r).toEqual({ code: 1, stdout: '', stderr: 'Error: Agent session nope not found\n' });
      for (const r of results) if (r.code !== 0) expectCleanError(r);

      for (const id of [...distinct, same]) expected.add(id);
      const file = checkFile(s);
      expect(Object.keys(file).sort()).toEqual([...expected].sort());
      for (const rec of Object.values(file)) expect(rec.status, JSON.stringify(rec)).toBe('Running');
      expect(leftovers(s)).toEqual([]);
    }
    // Every supervisor alive has its record, and the other way round (killed ones ended).
    await waitFor(() => supervisorIds(s).join() === [...expected].sort().join(), 15_000).catch(() => undefined);
    expect(supervisorIds(s)).toEqual([...expected].sort());
    expect(s.run(['agent', 'list']).stdout.split('\n').filter((l) => l.includes(' - Running ('))).toHaveLength(expected.size);
    // The 24 texts typed by racing `send`s all arrived, none twice (two racing sends may
    // share a line: each is its own paste, then its own Enter).
    const typedFile = path.join(s.work, 'typed.txt');
    const tokens = () => fs.readFileSync(typedFile, 'utf8').match(/line-\d-\d/g) ?? [];
    await waitFor(() => tokens().length >= 24, 15_000).catch(() => undefined);
    expect(tokens()).toHaveLength(24);
    expect(new Set(tokens()).size).toBe(24);
    console.log(`storm durations (50 processes each): ${timings.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')}`);
  }, 120_000);
});

function startTicks(pid: number): string {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe('the lock on agent-sessions.json', () => {
  const lockOf = (s: Sandbox) => `${s.sessionsFile()}.lock`;

  it('left by a dead process is taken over at once', () => {
    const s = sandbox();
    fs.mkdirSync(s.home, { recursive: true, mode: 0o700 });
    // A pid that cannot exist (above pid_max), in both the current and the older format.
    for (const [id, content] of [['a1', '4194304999 123 deadbeef'], ['a2', '4194304999 deadbeef']] as const) {
      fs.writeFileSync(lockOf(s), content);
      const t0 = Date.now();
      const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', 'sleep', '60']);
      expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(fs.existsSync(lockOf(s))).toBe(false);
    }
    expect(Object.keys(checkFile(s)).sort()).toEqual(['a1', 'a2']);
  });

  it('whose pid now belongs to another process (recycled: other start time) is stale', () => {
    const s = sandbox();
    fs.mkdirSync(s.home, { recursive: true, mode: 0o700 });
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(lockOf(s), `${other.pid} ${Number(startTicks(other.pid!)) + 1} cafe`);
      const r = s.run(['agent', 'spawn', '--uuid', 'r1', '--workdir', s.work, '--', 'sleep', '60']);
      expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('held by a live process past the timeout gives a clear error and leaves the file alone', () => {
    const s = sandbox();
    expect(s.run(['agent', 'spawn', '--uuid', 'keep', '--workdir', s.work, '--', 'sleep', '60']).code).toBe(0);
    const before = fs.readFileSync(s.sessionsFile(), 'utf8');
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(lockOf(s), `${holder.pid} ${startTicks(holder.pid!)} cafe`);
      const t0 = Date.now();
      const r = s.run(['agent', 'spawn', '--uuid', 'blocked', '--workdir', s.work, '--', 'sleep', '60'], {
        env: { SYMPOSIUM_LOCK_TIMEOUT: '1' },
      });
      const took = Date.now() - t0;
      expect(r.code).toBe(1);
      const lock = lockOf(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(r.stderr).toMatch(
        new RegExp(`^Error: Timed out after 1 s waiting for the lock ${lock}, held by process ${holder.pid} \\(sleep 60\\), for \\d+ s\\. If that process is stuck, end it \\(kill ${holder.pid}\\) and try again\\.\n$`),
      );
      expect(took).toBeGreaterThanOrEqual(1000);
      // Still held by its owner, the file untouched; reading verbs go on working.
      expect(fs.readFileSync(lockOf(s), 'utf8')).toBe(`${holder.pid} ${startTicks(holder.pid!)} cafe`);
      expect(fs.readFileSync(s.sessionsFile(), 'utf8')).toBe(before);
      expect(s.run(['agent', 'list']).stdout).toContain('  keep - Running');
      // Once the holder is gone, the next command proceeds.
      holder.kill('SIGKILL');
      await_exit(holder.pid!);
      const ok = s.run(['agent', 'spawn', '--uuid', 'blocked', '--workdir', s.work, '--', 'sleep', '60']);
      expect(ok, ok.stderr).toMatchObject({ code: 0 });
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a taker killed while it waits leaves no file behind once the next one had to wait', async () => {
    const s = sandbox();
    fs.mkdirSync(s.home, { recursive: true, mode: 0o700 });
    const candidates = () => fs.readdirSync(s.home).filter((n) => n.startsWith('agent-sessions.json.lock.new-'));
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(lockOf(s), `${holder.pid} ${startTicks(holder.pid!)} cafe`);
      // A spawn waits for the lock (its content written once, in a file of its own)...
      const waiter = spawn(process.execPath, [CLI, 'agent', 'spawn', '--uuid', 'w1', '--workdir', s.work, '--', 'sleep', '60'], { env: s.env, cwd: s.work, stdio: 'ignore' });
      const deadline = Date.now() + 10_000;
      while (candidates().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(candidates()).toHaveLength(1);
      // ...and is killed there: its file stays, until the next taker that waited sweeps it.
      waiter.kill('SIGKILL');
      await new Promise((r) => waiter.once('exit', r));
      expect(candidates()).toHaveLength(1);
      holder.kill('SIGKILL');
      await_exit(holder.pid!);
      const ok = s.run(['agent', 'spawn', '--uuid', 'w2', '--workdir', s.work, '--', 'sleep', '60']);
      expect(ok, ok.stderr).toMatchObject({ code: 0 });
      expect(candidates()).toEqual([]);
      expect(fs.existsSync(lockOf(s))).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

function await_exit(pid: number): void {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (/\) [ZX] /.test(st)) return;
    } catch {
      return;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}
