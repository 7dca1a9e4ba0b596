import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPERVISOR_MALLOC_ENV, SUPERVISOR_NODE_FLAGS } from '../../src/held-env';
import { REPORT_FD_ENV } from '../../src/spawn-front-end';
import { environ, fdTargets } from '../helpers/proc-files';
import { ROOT, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// `agent spawn` through its native front end (native/spawn.c): the CLI's own process
// becomes the agent's supervisor (src/spawn-front-end.ts). Real front end, real CLI, real
// supervisors; the front end alone against a stand-in `node` for what it passes on.

const FRONT_END = path.join(ROOT, 'dist', 'symposium-spawn');
const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });

function spawnOk(s: Sandbox, id: string, cmd: string[], env: NodeJS.ProcessEnv = {}): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', ...cmd], { env });
  expect(r, r.stderr).toEqual({ code: 0, stdout: 'Agent session spawned successfully\n', stderr: '' });
}

function supervisorPid(s: Sandbox, id: string): number {
  const rec = s.readSessions()[id]!;
  expect(rec.status, JSON.stringify(rec)).toBe('Running');
  return rec.supervisor_pid as number;
}

/** Field 6 of /proc/PID/stat: the session id. */
function sessionOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

describe.skipIf(!fs.existsSync(FRONT_END))('agent spawn through its native front end', () => {
  it('the CLI process becomes the supervisor: its own session, its log under fds 1 and 2, nothing of the caller held', async () => {
    const s = sandbox();
    // The caller's stdout and stderr are files here, to look for them among the supervisor's fds.
    const out = path.join(s.dir, 'out.txt');
    const err = path.join(s.dir, 'err.txt');
    const cmd = `"$0" agent spawn --uuid fe1 --workdir "$1" -- sh -c 'env > env.txt; exec cat' > "$2" 2> "$3"`;
    // The user's allocator setting travels held and comes back for the agent.
    const r = spawnSync('sh', ['-c', cmd, path.join(ROOT, 'bin', 'symposium-mcp'), s.work, out, err], { env: { ...s.env, MALLOC_ARENA_MAX: '4' }, timeout: 30_000 });
    expect(r.status, fs.readFileSync(err, 'utf8')).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('Agent session spawned successfully\n');
    const pid = supervisorPid(s, 'fe1');
    const env = environ(pid);
    // Started by the front end (its pipe named), with the supervisor's allocator settings.
    expect(env.get(REPORT_FD_ENV)).toBe('3');
    for (const [name, value] of Object.entries(SUPERVISOR_MALLOC_ENV)) expect(env.get(name), name).toBe(value);
    expect(env.get('SYMPOSIUM_HELD_MALLOC_ARENA_MAX')).toBe('4');
    expect(sessionOf(pid)).toBe(pid);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1')).toMatch(/^symposium-supervisor fe1/);
    const fds = fdTargets(pid);
    const log = path.join(s.home, 'sessions', 'fe1', 'supervisor.log');
    expect(fds.get(0)).toBe('/dev/null');
    expect(fds.get(1)).toBe(log);
    expect(fds.get(2)).toBe(log);
    expect([...fds.values()].filter((t) => t === out || t === err)).toEqual([]);
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe(s.work);
    // The agent's environment is the user's: nothing of the front end's or the supervisor's.
    const envFile = path.join(s.work, 'env.txt');
    await waitFor(() => fs.existsSync(envFile) && fs.readFileSync(envFile, 'utf8').includes('PATH='));
    const lines = fs.readFileSync(envFile, 'utf8').split('\n');
    expect(lines).toContain('MALLOC_ARENA_MAX=4');
    expect(lines.filter((l) => l.startsWith(`${REPORT_FD_ENV}=`) || l.startsWith('MALLOC_TRIM_THRESHOLD_=') || l.startsWith('SYMPOSIUM_HELD_'))).toEqual([]);
    // The session works as any other: input and capture through the socket, then kill.
    expect(s.run(['agent', 'send', 'fe1', 'hello-front-end', '--enter']).code).toBe(0);
    await waitFor(() => s.run(['agent', 'capture', 'fe1']).stdout.includes('hello-front-end'));
    expect(s.run(['agent', 'kill', 'fe1'])).toMatchObject({ code: 0 });
    await waitFor(() => !fs.existsSync(`/proc/${pid}`));
  });

  it('answers as the Node path does: refused options, an unknown program, a taken id, help', () => {
    const s = sandbox();
    const both = (args: string[]) => {
      const native = s.run(args);
      const node = s.run(args, { env: { SYMPOSIUM_NATIVE_CLIENT: '0' } });
      return { native, node };
    };
    for (const args of [
      ['agent', 'spawn', '--uuid', 'x1', '--workdir', path.join(s.dir, 'nowhere'), '--', 'cat'],
      ['agent', 'spawn', '--uuid', 'x2', '--workdir', s.work, '--', 'no-such-program-here'],
      ['agent', 'spawn', '--uuid', 'x/3', '--workdir', s.work, '--', 'cat'],
      ['agent', 'spawn', '--help'],
      ['agent', 'spawn', '--bogus'],
    ]) {
      const { native, node } = both(args);
      expect(native, args.join(' ')).toEqual(node);
    }
    const refused = s.run(['agent', 'spawn', '--uuid', 'x2', '--workdir', s.work, '--', 'no-such-program-here']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Failed to start agent session x2/);
    // Nothing stays behind a refused start: no process of this home, no record.
    expect(s.processes()).toEqual([]);
    expect(Object.keys(s.readSessions())).toEqual([]);
    spawnOk(s, 'taken', ['cat']);
    const again = both(['agent', 'spawn', '--uuid', 'taken', '--workdir', s.work, '--', 'cat']);
    expect(again.native).toEqual(again.node);
    expect(again.native.code).toBe(1);
  });

  it('a caller that stops reading does not take the agent down', async () => {
    const s = sandbox();
    // stdout a pipe whose reader is already gone: the CLI's answer meets EPIPE.
    const r = spawnSync('sh', ['-c', `exec 3>&1; ( "$0" agent spawn --uuid gone --workdir "$1" -- cat; echo "rc=$?" >&3 ) | true`, path.join(ROOT, 'bin', 'symposium-mcp'), s.work], {
      env: s.env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stdout).toMatch(/rc=(0|141)/);
    const pid = await waitFor(() => s.readSessions().gone?.supervisor_pid as number | undefined);
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
    expect(s.run(['agent', 'send', 'gone', 'still-here', '--enter']).code).toBe(0);
    await waitFor(() => s.run(['agent', 'capture', 'gone']).stdout.includes('still-here'));
  });

  it('without the front end (SYMPOSIUM_NATIVE_CLIENT=0) the supervisor is a Node of its own', () => {
    const s = sandbox();
    spawnOk(s, 'apart', ['cat'], { SYMPOSIUM_NATIVE_CLIENT: '0' });
    const env = environ(supervisorPid(s, 'apart'));
    expect(env.has(REPORT_FD_ENV)).toBe(false);
    for (const [name, value] of Object.entries(SUPERVISOR_MALLOC_ENV)) expect(env.get(name), name).toBe(value);
  });

  it("either way, a supervisor holds its bundle's source as a map of the file (shared), not as a copy in its heap", () => {
    const s = sandbox();
    spawnOk(s, 'm1', ['cat'], { SYMPOSIUM_STANDBY: '0' });
    spawnOk(s, 'm2', ['cat'], { SYMPOSIUM_STANDBY: '0', SYMPOSIUM_NATIVE_CLIENT: '0' });
    const bundle = path.join(ROOT, 'dist', 'supervisor.bundle.js');
    for (const id of ['m1', 'm2']) {
      const maps = fs.readFileSync(`/proc/${supervisorPid(s, id)}/maps`, 'latin1').split('\n');
      expect(maps.filter((l) => l.endsWith(bundle)).length, id).toBeGreaterThan(0);
      // Read-only and private: V8 never writes it, and the file is not written through it.
      for (const l of maps.filter((x) => x.endsWith(bundle))) expect(l.split(/\s+/)[1], id).toBe('r--p');
    }
  });
});

describe.skipIf(!fs.existsSync(FRONT_END))('the spawn front end alone, against a stand-in node', () => {
  /** A `node` first on PATH that records what it was given and answers as `script` says. */
  function standIn(s: Sandbox, script: string): NodeJS.ProcessEnv {
    const bin = path.join(s.dir, 'fake-bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
      path.join(bin, 'node'),
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${s.dir}/argv"\nenv > "${s.dir}/env"\nls -l /proc/$$/fd/ > "${s.dir}/fds"\n${script}\n`,
      { mode: 0o755 },
    );
    return { ...s.env, PATH: `${bin}:${s.env.PATH ?? ''}` };
  }

  it('starts node under the supervisor flags and allocator settings, and exits with the code said on fd 3', () => {
    const s = sandbox();
    const env = { ...standIn(s, 'echo "exit 7" >&3; sleep 5 < /dev/null > /dev/null 2>&1 3>&- &'), MALLOC_TRIM_THRESHOLD_: '99' };
    const t0 = Date.now();
    const r = spawnSync(FRONT_END, ['/the/bin', 'agent', 'spawn', '--uuid', 'a b'], { env, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(7);
    expect(Date.now() - t0).toBeLessThan(4000); // it did not wait for node to end
    expect(fs.readFileSync(path.join(s.dir, 'argv'), 'utf8')).toBe([...SUPERVISOR_NODE_FLAGS, '/the/bin', 'agent', 'spawn', '--uuid', 'a b', ''].join('\n'));
    const seen = fs.readFileSync(path.join(s.dir, 'env'), 'utf8').split('\n');
    for (const [name, value] of Object.entries(SUPERVISOR_MALLOC_ENV)) expect(seen).toContain(`${name}=${value}`);
    expect(seen).toContain('SYMPOSIUM_HELD_MALLOC_TRIM_THRESHOLD_=99');
    expect(seen).toContain(`SYMPOSIUM_SUPERVISOR_SET=${Object.keys(SUPERVISOR_MALLOC_ENV).join(',')}`);
    expect(seen).toContain(`${REPORT_FD_ENV}=3`);
    expect(seen).toContain('SYMPOSIUM_NATIVE_CLIENT=0');
    expect(fs.readFileSync(path.join(s.dir, 'fds'), 'utf8')).toMatch(/ 3 -> pipe:/);
  });

  it('without a word on fd 3, the answer is how node ended', () => {
    const s = sandbox();
    expect(spawnSync(FRONT_END, ['/b', 'agent', 'spawn'], { env: standIn(s, 'exit 5'), timeout: 10_000 }).status).toBe(5);
    expect(spawnSync(FRONT_END, ['/b', 'agent', 'spawn'], { env: standIn(s, 'echo "nonsense" >&3; exit 3'), timeout: 10_000 }).status).toBe(3);
    expect(spawnSync(FRONT_END, ['/b', 'agent', 'spawn'], { env: standIn(s, 'echo "exit 999" >&3; exit 4'), timeout: 10_000 }).status).toBe(4);
    expect(spawnSync(FRONT_END, ['/b', 'agent', 'spawn'], { env: standIn(s, 'kill -TERM $$'), timeout: 10_000 }).status).toBe(128 + 15);
    const noNode = spawnSync(FRONT_END, ['/b', 'agent', 'spawn'], { env: { ...s.env, PATH: '/nonexistent' }, encoding: 'utf8', timeout: 10_000 });
    expect(noNode.status).toBe(127);
    expect(noNode.stderr).toMatch(/cannot start node/);
  });
});
