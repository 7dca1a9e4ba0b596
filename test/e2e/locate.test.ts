import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxPerTest, waitFor } from '../helpers/sandbox';

// Found where a session lives, whatever the caller's environment (issue 16): a CLI run
// from cron, sudo or ssh computes another runtime directory, or names another tmux server;
// the session is found where it was started, which its record says.

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });

describe('a pty session started under another runtime directory', { timeout: 60_000 }, () => {
  it('is reached at the socket recorded at spawn: list, send, capture, wait and kill work from another XDG_RUNTIME_DIR or none', async () => {
    const s = sandbox();
    const at = (name: string) => {
      const d = path.join(s.dir, name);
      fs.mkdirSync(d, { mode: 0o700 });
      return d;
    };
    const login = at('xdg-login');
    const other = at('xdg-other');
    const tmp = at('tmp');
    // As a login shell: XDG_RUNTIME_DIR set, no SYMPOSIUM_RUNTIME_DIR.
    const spawned = s.run(['agent', 'spawn', '--uuid', 'x1', '--workdir', s.work, '--', 'cat'], { env: { SYMPOSIUM_RUNTIME_DIR: undefined, XDG_RUNTIME_DIR: login } });
    expect(spawned.code, spawned.stderr).toBe(0);
    // As cron (no XDG_RUNTIME_DIR at all) and as another login.
    for (const env of [{ SYMPOSIUM_RUNTIME_DIR: undefined, XDG_RUNTIME_DIR: undefined, TMPDIR: tmp }, { SYMPOSIUM_RUNTIME_DIR: undefined, XDG_RUNTIME_DIR: other }]) {
      const run = (args: string[]) => s.run(args, { env });
      expect(run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}x1 - Running \(symposium-agent-x1\) {2}\[(idle|working|starting)/);
      expect(run(['agent', 'send', 'x1', `from-${env.XDG_RUNTIME_DIR ? 'other' : 'cron'}`, '--enter']).code).toBe(0);
    }
    expect(s.readSessions().x1!.socket_path).toMatch(new RegExp(`^${login}/symposium/[0-9a-f]{8}-x1\\.sock$`));
    const capture = s.run(['agent', 'capture', 'x1'], { env: { SYMPOSIUM_RUNTIME_DIR: undefined, XDG_RUNTIME_DIR: other } });
    expect(capture.stdout).toMatch(/from-cron[\s\S]*from-other/);
    expect(s.run(['agent', 'wait', 'x1', '--text', 'from-other', '--timeout', '10'], { env: { SYMPOSIUM_RUNTIME_DIR: undefined, XDG_RUNTIME_DIR: other } }).code).toBe(0);
    const killed = s.run(['agent', 'kill', 'x1'], { env: { SYMPOSIUM_RUNTIME_DIR: undefined, XDG_RUNTIME_DIR: other } });
    expect(killed).toMatchObject({ code: 0, stdout: 'Agent session x1 killed\n' });
    await waitFor(() => s.processes().length === 0);
    // Nothing of x1's (the standby waiting for the next spawn is no session's).
    expect(fs.readdirSync(path.join(login, 'symposium')).filter((f) => !f.startsWith('standby.'))).toEqual([]);
  });
});

describe('a tmux session, from a CLI inside another tmux server', { timeout: 60_000 }, () => {
  it('is addressed on the server recorded at spawn: not marked Crashed, sent to, captured, and killed for real (no orphan)', async () => {
    const s = sandbox();
    const spawned = s.run(['agent', 'spawn', '--uuid', 't1', '--workdir', s.work, '--backend', 'tmux', '--', 'cat']);
    expect(spawned.code, spawned.stderr).toBe(0);
    const own = path.join(s.tmuxTmp, `tmux-${process.getuid!()}`, 'default');
    // Another tmux server, whose client this CLI runs in (its $TMUX), and another TMUX_TMPDIR.
    const other = path.join(s.dir, 'other.sock');
    expect(s.tmux(['-S', other, 'new-session', '-d', '-s', 'decoy', 'sleep', '600']).code).toBe(0);
    const elsewhere = path.join(s.dir, 'elsewhere');
    fs.mkdirSync(elsewhere, { mode: 0o700 });
    const env = { TMUX: `${other},${process.pid},0`, TMUX_PANE: '%0', TMUX_TMPDIR: elsewhere };
    try {
      const run = (args: string[]) => s.run(args, { env });
      expect(run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}t1 - Running \(symposium-agent-t1\)/);
      expect(run(['agent', 'send', 't1', 'typed-from-elsewhere', '--enter']).code).toBe(0);
      await waitFor(() => run(['agent', 'capture', 't1']).stdout.includes('typed-from-elsewhere'));
      expect(s.readSessions().t1!.tmux_socket).toBe(own);
      expect(run(['agent', 'attach', 't1', '--print']).stdout).toBe(`To attach to agent session t1, run:\n  tmux -S ${own} attach-session -t symposium-agent-t1\n`);
      const pid = s.readSessions().t1!.agent_pid as number;
      expect(run(['agent', 'kill', 't1'])).toMatchObject({ code: 0, stdout: 'Agent session t1 killed\n' });
      await waitFor(() => !fs.existsSync(`/proc/${pid}`));
      expect(s.tmux(['-S', own, 'has-session', '-t', '=symposium-agent-t1']).code).not.toBe(0);
      expect(s.readSessions()).toEqual({});
      // The other server and its session were not touched.
      expect(s.tmux(['-S', other, 'has-session', '-t', '=decoy']).code).toBe(0);
    } finally {
      s.tmux(['-S', other, 'kill-server']);
    }
  });
});
