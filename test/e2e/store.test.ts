import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, waitFor } from '../helpers/sandbox';

// agent-sessions.json: the Rust tool's format byte for byte, its files read back, and
// safety under concurrency and corruption. Sessions run on tmux (a private server).

const FIXTURES = path.join(__dirname, '..', 'fixtures');

let sb: Sandbox;
afterEach(() => sb?.dispose());

function sandbox(): Sandbox {
  sb = new Sandbox({ SYMPOSIUM_AGENT_BACKEND: 'tmux' });
  return sb;
}

/** Times, pids and the sandbox path vary from run to run; nothing else may. */
function normalize(text: string, s: Sandbox): string {
  return text
    .replace(/"secs_since_epoch": \d+/g, '"secs_since_epoch": 1757433923')
    .replace(/"nanos_since_epoch": \d+/g, '"nanos_since_epoch": 123456789')
    .replace(/"agent_pid": \d+/g, '"agent_pid": 4242')
    .replace(/"tmux_socket": "[^"]*"/g, '"tmux_socket": "/tmp/tmux-1000/default"')
    .replaceAll(s.work, '/path/to/project');
}

describe('the session file', () => {
  it('is written byte for byte in the documented format', async () => {
    const s = sandbox();
    expect(s.run(['agent', 'spawn', '--uuid', 'my-agent-1', '--workdir', s.work, 'sh', '-c', 'sleep 30', 'sh', '--resume']).code).toBe(0);
    expect(s.run(['agent', 'spawn', '--uuid', 'crashy', '--workdir', s.work, '--', 'sh', '-c', 'exit 3']).code).toBe(0);
    await waitFor(() => s.run(['agent', 'list']).stdout.includes('crashy - Crashed'));
    const text = fs.readFileSync(s.sessionsFile(), 'utf8');
    expect(normalize(text, s)).toBe(fs.readFileSync(path.join(FIXTURES, 'agent-sessions.json'), 'utf8'));
    // What JSON.stringify(x, null, 2) writes: no trailing newline.
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2));
    const rec = JSON.parse(text)['my-agent-1'] as Record<string, unknown>;
    expect(Object.keys(rec).slice(0, 7)).toEqual(['uuid', 'tmux_session_name', 'agent_command', 'working_directory', 'status', 'created_at', 'last_attached']);
    for (const t of [rec.created_at as { secs_since_epoch: number; nanos_since_epoch: number }]) {
      expect(Object.keys(t)).toEqual(['secs_since_epoch', 'nanos_since_epoch']);
      expect(Number.isInteger(t.nanos_since_epoch) && t.nanos_since_epoch >= 0 && t.nanos_since_epoch <= 999_999_999).toBe(true);
      expect(Math.abs(t.secs_since_epoch - Date.now() / 1000)).toBeLessThan(60);
    }
  });

  it('is private to the user: file 0600, directory 0700, no lock left', () => {
    const s = sandbox();
    expect(s.run(['agent', 'spawn', '--uuid', 'p', '--workdir', s.work, 'sleep', '30']).code).toBe(0);
    expect(fs.statSync(s.home).mode & 0o777).toBe(0o700);
    expect(fs.statSync(s.sessionsFile()).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(s.home).filter((f) => f.includes('lock') || f.includes('tmp'))).toEqual([]);
  });

  it('reads a file the Rust tool wrote (no backend field: tmux)', () => {
    const s = sandbox();
    fs.mkdirSync(s.home, { mode: 0o700 });
    fs.copyFileSync(path.join(FIXTURES, 'rust-agent-sessions.json'), s.sessionsFile());
    // Two of its sessions still run in tmux; tmux turned the Rust id's `.` into `_`.
    expect(s.tmux(['new-session', '-d', '-s', 'symposium-agent-live', 'sleep', '30']).code).toBe(0);
    expect(s.tmux(['new-session', '-d', '-s', 'symposium-agent-old_agent', 'sleep', '30']).code).toBe(0);
    const list = s.run(['agent', 'list']);
    expect(list.code).toBe(0);
    expect(list.stderr).toBe('');
    const lines = list.stdout.split('\n');
    expect(lines[0]).toBe('Active agent sessions:');
    expect(lines[1]).toBe('  my-agent-1 - Crashed (symposium-agent-my-agent-1)  [gone from tmux]');
    expect(lines[2]).toMatch(/^ {2}live - Running \(symposium-agent-live\)( {2}\[.*\])?$/);
    expect(lines[3]).toMatch(/^ {2}old\.agent - Running \(symposium-agent-old\.agent\)( {2}\[.*\])?$/);
    const json = JSON.parse(s.run(['agent', 'list', '--json']).stdout) as Array<Record<string, unknown>>;
    expect(json.map((r) => r.backend)).toEqual(['tmux', 'tmux', 'tmux']);
    expect(json[1]).toMatchObject({ id: 'live', command: ['sleep', '30'], workdir: '/tmp', lastAttached: '2025-09-09T16:06:40.999Z' });
    // Still no backend field written for them, and their seven fields unchanged.
    const file = s.readSessions();
    expect(file.live!.backend).toBeUndefined();
    expect(file.live!.last_attached).toEqual({ secs_since_epoch: 1757434000, nanos_since_epoch: 999999999 });
    expect(s.run(['agent', 'attach', 'live', '--print']).stdout).toBe('To attach to agent session live, run:\n  tmux attach-session -t symposium-agent-live\n');
    expect(s.run(['agent', 'kill', 'live'])).toMatchObject({ code: 0, stdout: 'Agent session live killed\n' });
    expect(s.tmux(['has-session', '-t', '=symposium-agent-live']).code).not.toBe(0);
    expect(s.run(['agent', 'kill', 'my-agent-1']).code).toBe(0);
    expect(Object.keys(s.readSessions())).toEqual(['old.agent']);
  });

  it('keeps all 30 sessions spawned at the same moment by separate processes', async () => {
    const s = sandbox();
    const ids = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const results = await Promise.all(ids.map((id) => s.runAsync(['agent', 'spawn', '--uuid', id, '--workdir', s.work, 'sleep', '30'])));
    for (const r of results) expect(r).toMatchObject({ code: 0, stdout: 'Agent session spawned successfully\n', stderr: '' });
    const file = s.readSessions();
    expect(Object.keys(file).sort()).toEqual([...ids].sort());
    expect(Object.values(file).every((r) => r.status === 'Running')).toBe(true);
    const tmux = s.tmux(['list-sessions', '-F', '#{session_name}']).stdout.trim().split('\n').sort();
    expect(tmux).toEqual(ids.map((id) => `symposium-agent-${id}`).sort());

    // Interleaved: kill half of them while spawning 15 more.
    const killed = ids.slice(0, 15);
    const added = Array.from({ length: 15 }, (_, i) => `n${i}`);
    const mixed = await Promise.all([
      ...killed.map((id) => s.runAsync(['agent', 'kill', id])),
      ...added.map((id) => s.runAsync(['agent', 'spawn', '--uuid', id, '--workdir', s.work, 'sleep', '30'])),
    ]);
    for (const r of mixed) expect(r.code, r.stderr).toBe(0);
    const want = [...ids.slice(15), ...added].sort();
    expect(Object.keys(s.readSessions()).sort()).toEqual(want);
    const tmuxAfter = s.tmux(['list-sessions', '-F', '#{session_name}']).stdout.trim().split('\n').sort();
    expect(tmuxAfter).toEqual(want.map((id) => `symposium-agent-${id}`).sort());

    // Racing spawns of one id: exactly one wins.
    const same = await Promise.all(Array.from({ length: 5 }, () => s.runAsync(['agent', 'spawn', '--uuid', 'dup', '--workdir', s.work, 'sleep', '30'])));
    expect(same.filter((r) => r.code === 0)).toHaveLength(1);
    for (const r of same.filter((r) => r.code !== 0)) expect(r.stderr).toBe('Error: Agent session dup already exists\n');
  });

  it('never overwrites a file it cannot read: bad JSON', () => {
    const s = sandbox();
    fs.mkdirSync(s.home, { mode: 0o700 });
    const bad = '{"a": {"uuid": "a",';
    fs.writeFileSync(s.sessionsFile(), bad, { mode: 0o600 });
    for (const args of [['agent', 'list'], ['agent', 'spawn', '--uuid', 'n', '--workdir', s.work, 'sleep', '30'], ['agent', 'kill', 'a']]) {
      const r = s.run(args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`Error: The session file ${s.sessionsFile()} is invalid: not valid JSON`);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
    expect(fs.readFileSync(s.sessionsFile(), 'utf8')).toBe(bad);
    // Nothing was started either.
    expect(s.tmux(['list-sessions']).code).not.toBe(0);
  });

  it('never overwrites a file it cannot read: wrong types', () => {
    const s = sandbox();
    fs.mkdirSync(s.home, { mode: 0o700 });
    const rust = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'rust-agent-sessions.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    const cases: Array<[(f: typeof rust) => void, string]> = [
      [(f) => (f['my-agent-1']!.status = 'running'), '"my-agent-1".status: expected one of Starting, Running, Crashed, Stopped, found "running"'],
      [(f) => (f.live!.agent_command = 'sleep 30'), '"live".agent_command: expected an array of strings'],
      [(f) => (f.live!.created_at = { secs_since_epoch: 1, nanos_since_epoch: 1e9 }), '"live".created_at.nanos_since_epoch'],
      [(f) => (f.live!.uuid = 5), '"live".uuid: expected a string, found a number'],
    ];
    for (const [spoil, what] of cases) {
      const f = structuredClone(rust);
      spoil(f);
      const text = JSON.stringify(f, null, 2);
      fs.writeFileSync(s.sessionsFile(), text);
      const r = s.run(['agent', 'list']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Error: The session file ${s.sessionsFile()} is invalid: ${what}`);
      expect(fs.readFileSync(s.sessionsFile(), 'utf8')).toBe(text);
    }
    fs.writeFileSync(s.sessionsFile(), '[]');
    expect(s.run(['agent', 'list']).stderr).toContain('expected a JSON object keyed by agent id, found an array');
    expect(fs.readFileSync(s.sessionsFile(), 'utf8')).toBe('[]');
  });
});
