import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// Surviving the user's logout (issue 16): when a user systemd instance is reachable, each
// supervisor starts in a user scope of its own (`systemd-run --user --scope`), outside the
// login session that KillUserProcesses=yes would kill; where making one fails it starts as
// before, silently. The tests put a stand-in systemd-run first on PATH that records how it
// was called and then does what the real one does for a scope: exec the command (or fail).

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });

/** A stand-in systemd-run in its own directory; `fails`: it refuses, as without a bus. */
function standIn(s: Sandbox, fails: boolean): { dir: string; calls: () => string[] } {
  const dir = path.join(s.dir, fails ? 'failing-bin' : 'bin');
  fs.mkdirSync(dir);
  const calls = path.join(dir, 'calls');
  const body = fails
    ? 'echo "Failed to connect to bus: No medium found" >&2\nexit 1'
    : 'while [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"';
  fs.writeFileSync(path.join(dir, 'systemd-run'), `#!/bin/sh\necho "$$ $*" >> "${calls}"\n${body}\n`, { mode: 0o755 });
  return { dir, calls: () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : []) };
}

describe('supervisors in a user systemd scope', { timeout: 60_000 }, () => {
  it('start in a scope of their own when a user manager is reachable; the agent works as ever', async () => {
    const s = sandbox();
    const run = standIn(s, false);
    const env = { PATH: `${run.dir}:${process.env.PATH}`, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent-bus' };
    const r = s.run(['agent', 'spawn', '--uuid', 's1', '--workdir', s.work, '--', 'cat'], { env });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const rec = s.readSessions().s1!;
    const createdMs = (rec.created_at as { secs_since_epoch: number; nanos_since_epoch: number }).secs_since_epoch * 1000 + Math.floor((rec.created_at as { nanos_since_epoch: number }).nanos_since_epoch / 1e6);
    const calls = run.calls();
    expect(calls).toHaveLength(1);
    const [pid, ...args] = calls[0]!.split(' ');
    expect(args.slice(0, 6)).toEqual(['--user', '--scope', '--quiet', '--collect', `--unit=symposium-agent-s1-${createdMs}`, '--']);
    expect(args.slice(6).join(' ')).toMatch(/ .*supervisor\/launch\.js .*sessions\/s1\/supervisor\.json$/);
    // The supervisor is the process systemd-run became (exec: same pid, our descriptors).
    expect(Number(pid)).toBe(rec.supervisor_pid);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1')).toMatch(/^symposium-supervisor s1/);
    expect(s.run(['agent', 'send', 's1', 'in-a-scope', '--enter']).code).toBe(0);
    await waitFor(() => s.run(['agent', 'capture', 's1']).stdout.includes('in-a-scope'));
  });

  it('start as before, silently, when the scope cannot be made, when no user manager is reachable, and when turned off', () => {
    const s = sandbox();
    const failing = standIn(s, true);
    const env = { PATH: `${failing.dir}:${process.env.PATH}`, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent-bus' };
    expect(s.run(['agent', 'spawn', '--uuid', 'f1', '--workdir', s.work, '--', 'cat'], { env })).toEqual({ code: 0, stdout: 'Agent session spawned successfully\n', stderr: '' });
    expect(failing.calls()).toHaveLength(1);
    expect(s.run(['agent', 'list']).stdout).toMatch(/f1 - Running/);

    const ok = standIn(s, false);
    const noBus = { PATH: `${ok.dir}:${process.env.PATH}`, DBUS_SESSION_BUS_ADDRESS: undefined, XDG_RUNTIME_DIR: undefined };
    expect(s.run(['agent', 'spawn', '--uuid', 'f2', '--workdir', s.work, '--', 'cat'], { env: noBus }).code).toBe(0);
    const off = { PATH: `${ok.dir}:${process.env.PATH}`, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent-bus', SYMPOSIUM_SYSTEMD_SCOPE: '0' };
    expect(s.run(['agent', 'spawn', '--uuid', 'f3', '--workdir', s.work, '--', 'cat'], { env: off }).code).toBe(0);
    expect(ok.calls()).toEqual([]);
    expect(s.run(['agent', 'list']).stdout).toMatch(/f1 - Running[\s\S]*f2 - Running[\s\S]*f3 - Running/);
  });
});
