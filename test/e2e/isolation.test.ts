import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, type RunResult, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';
import { TmuxView } from '../helpers/tmux-view';

// Issue 7: nobody else gets in (another uid cannot reach a supervisor or read the files;
// unsafe runtime directories and bad working directories are refused), and what happens
// to an attached client (its terminal closed, Ctrl-C) never touches the agent.

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });

const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

function spawnOk(s: Sandbox, id: string, cmd: string[] = ['sleep', '300']): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', ...cmd]);
  expect(r, r.stderr).toEqual({ code: 0, stdout: 'Agent session spawned successfully\n', stderr: '' });
}

function socketOf(s: Sandbox, id: string): string {
  const name = fs.readdirSync(s.runtime).find((f) => f.endsWith(`-${id}.sock`));
  expect(name).toBeDefined();
  return path.join(s.runtime, name!);
}

/** Runs a node script as `nobody` (no groups); it prints one JSON value. */
function asNobody(script: string, args: string[]): unknown {
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script, '--', ...args], {
    encoding: 'utf8',
    timeout: 15_000,
    cwd: '/',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const PROBE = `
const fs = require('fs');
const net = require('net');
const [sock, ...files] = process.argv.slice(1);
const out = {};
for (const f of files) {
  try { fs.statSync(f).isDirectory() ? fs.readdirSync(f) : fs.readFileSync(f); out[f] = 'ok'; }
  catch (e) { out[f] = e.code; }
}
const c = net.createConnection(sock);
c.on('connect', () => { out.socket = 'connected'; c.destroy(); console.log(JSON.stringify(out)); });
c.on('error', (e) => { out.socket = e.code; console.log(JSON.stringify(out)); });
`;

describe('another user', () => {
  it('cannot connect to a supervisor nor read the session file or directory', async (ctx) => {
    if (!IS_ROOT || spawnSync('setpriv', ['--version']).status !== 0) {
      console.log('skipped: needs root and setpriv to run a client as nobody');
      ctx.skip();
    }
    const s = sandbox();
    // Open the sandbox itself, so only our own modes stand in nobody's way.
    fs.chmodSync(s.dir, 0o755);
    spawnOk(s, 'secret');
    const sock = socketOf(s, 'secret');
    const files = [s.sessionsFile(), path.join(s.home, 'sessions'), path.join(s.home, 'sessions', 'secret', 'supervisor.json')];
    expect(fs.statSync(s.home).mode & 0o777).toBe(0o700);
    expect(fs.statSync(s.runtime).mode & 0o777).toBe(0o700);
    expect(fs.statSync(s.sessionsFile()).mode & 0o777).toBe(0o600);
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);

    const denied = Object.fromEntries([...files.map((f) => [f, 'EACCES']), ['socket', 'EACCES']]);
    expect(asNobody(PROBE, [sock, ...files])).toEqual(denied);

    // Each layer holds on its own: with the directories opened up, the socket's and the
    // files' own modes still refuse.
    fs.chmodSync(s.runtime, 0o711);
    fs.chmodSync(s.home, 0o711);
    try {
      expect(asNobody(PROBE, [sock, s.sessionsFile(), path.join(s.home, 'sessions')])).toEqual({
        socket: 'EACCES',
        [s.sessionsFile()]: 'EACCES',
        [path.join(s.home, 'sessions')]: 'EACCES',
      });
    } finally {
      fs.chmodSync(s.runtime, 0o700);
      fs.chmodSync(s.home, 0o700);
    }

    // The CLI run by that user says what is wrong, and the agent is untouched.
    const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, 'agent', 'list'], {
      encoding: 'utf8',
      env: s.env,
      cwd: '/',
      timeout: 15_000,
    });
    if (r.stderr.includes('Cannot find module')) {
      console.log('skipped the CLI-as-nobody part: the checkout is not readable by nobody');
    } else {
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        `Error: Cannot read the session file ${s.sessionsFile()}: permission denied (EACCES). Fix the permissions, or set SYMPOSIUM_HOME to a directory you can write.\n`,
      );
    }
    expect(s.run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}secret - Running/);
  });
});

describe('an unsafe runtime directory is refused', () => {
  function expectRefused(s: Sandbox, runtime: string, message: string): void {
    const r: RunResult = s.run(['agent', 'spawn', '--uuid', 'r1', '--workdir', s.work, '--', 'sleep', '300'], { env: { SYMPOSIUM_RUNTIME_DIR: runtime } });
    expect(r).toEqual({ code: 1, stdout: '', stderr: `Error: ${message}\n` });
    // Nothing was left behind: no record, no supervisor, no socket.
    expect(s.readSessions()).toEqual({});
    expect(s.processes()).toEqual([]);
  }

  it('a symlink, a file, a directory open to others, one owned by someone else', (ctx) => {
    const s = sandbox();
    const real = path.join(s.dir, 'real-run');
    fs.mkdirSync(real, { mode: 0o700 });
    const link = path.join(s.dir, 'link-run');
    fs.symlinkSync(real, link);
    expectRefused(
      s,
      link,
      `Runtime directory ${link} is a symlink; refusing to use it (someone could point it elsewhere). Remove it, or set SYMPOSIUM_RUNTIME_DIR to a private directory.`,
    );
    const file = path.join(s.dir, 'file-run');
    fs.writeFileSync(file, '');
    expectRefused(s, file, `Runtime directory ${file} is not a directory. Remove it, or set SYMPOSIUM_RUNTIME_DIR to a private directory.`);
    const open = path.join(s.dir, 'open-run');
    fs.mkdirSync(open, { mode: 0o755 });
    fs.chmodSync(open, 0o755);
    expectRefused(s, open, `Runtime directory ${open} has mode 755; it must be 700. Run: chmod 700 ${open}`);
    if (!IS_ROOT) {
      console.log('skipped the foreign-owner case: chown needs root');
      ctx.skip();
    }
    const foreign = path.join(s.dir, 'foreign-run');
    fs.mkdirSync(foreign, { mode: 0o700 });
    fs.chownSync(foreign, NOBODY, NOBODY);
    expectRefused(
      s,
      foreign,
      `Runtime directory ${foreign} is owned by uid ${NOBODY}, not by you (uid 0); refusing to use it. Remove it, or set SYMPOSIUM_RUNTIME_DIR to a directory of yours.`,
    );
  });
});

describe('a bad working directory is refused', () => {
  it('one that does not exist, one that is a file; restart of a session whose directory vanished', async () => {
    const s = sandbox();
    const missing = path.join(s.dir, 'missing');
    const file = path.join(s.dir, 'a-file');
    fs.writeFileSync(file, '');
    for (const [dir, what] of [
      [missing, 'does not exist'],
      [file, 'is not a directory'],
    ] as const) {
      const r = s.run(['agent', 'spawn', '--uuid', 'w1', '--workdir', dir, '--', 'sleep', '300']);
      expect(r).toEqual({ code: 1, stdout: '', stderr: `Error: Working directory ${dir} ${what}\n` });
    }
    expect(fs.existsSync(s.sessionsFile()) ? s.readSessions() : {}).toEqual({});

    const gone = path.join(s.dir, 'gone');
    fs.mkdirSync(gone);
    const r = s.run(['agent', 'spawn', '--uuid', 'w2', '--workdir', gone, '--', 'sh', '-c', 'exit 1']);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => s.readSessions().w2?.status === 'Crashed', 15_000);
    fs.rmdirSync(gone);
    const restart = s.run(['agent', 'restart', 'w2']);
    expect(restart).toEqual({ code: 1, stdout: '', stderr: `Error: Working directory ${gone} does not exist\n` });
    expect(s.readSessions().w2?.status).toBe('Crashed');
  });
});

describe('signals around an attached client', () => {
  it('closing its terminal (SIGHUP) detaches without touching the agent; Ctrl-C goes to the agent', async () => {
    const s = sandbox();
    spawnOk(s, 'sh1', ['bash', '--norc', '--noprofile', '-i']);
    const agentPid = s.readSessions().sh1!.agent_pid as number;
    const viewers = () => (JSON.parse(s.run(['agent', 'list', '--json']).stdout) as Array<{ viewers: number | null; status: string }>)[0]!;

    // Ctrl-C typed in attach interrupts the agent's `sleep`, the client stays attached.
    const v1 = TmuxView.attach(s, 'v1', 100, 30, 'sh1');
    await waitFor(() => viewers().viewers === 1, 15_000);
    v1.type('sleep 100');
    v1.keys('Enter');
    const sleeping = () => fs.readdirSync('/proc').some((p) => /^\d+$/.test(p) && readCmd(p) === 'sleep 100' && sessionOf(p) === agentPid);
    await waitFor(sleeping, 15_000);
    v1.keys('C-c');
    await waitFor(() => !sleeping(), 10_000);
    // bash saw its job die of SIGINT: status 130.
    v1.type('echo after-sleep-$?');
    v1.keys('Enter');
    await v1.waitText(/after-sleep-130/, 15_000);
    expect(v1.dead()).toBe(false);
    expect(viewers()).toMatchObject({ viewers: 1, status: 'Running' });

    // SIGHUP to the attach process (its terminal is gone): it leaves, the agent runs on.
    const clientPid = Number(s.tmux(['display', '-p', '-t', v1.target, '#{pane_pid}']).stdout.trim());
    process.kill(clientPid, 'SIGHUP');
    await waitFor(() => v1.dead(), 10_000);
    await waitFor(() => viewers().viewers === 0, 10_000);
    expect(viewers().status).toBe('Running');

    // Closing the window of a second client: tmux hangs up its pane the same way.
    const v2 = TmuxView.attach(s, 'v2', 100, 30, 'sh1');
    await waitFor(() => viewers().viewers === 1, 15_000);
    expect(s.tmux(['kill-session', '-t', '=v2']).code).toBe(0);
    await waitFor(() => viewers().viewers === 0, 10_000);
    expect(viewers().status).toBe('Running');
    expect(fs.existsSync(`/proc/${agentPid}`)).toBe(true);
    expect(s.run(['agent', 'send', 'sh1', 'echo still-here', '--enter']).code).toBe(0);
    await waitFor(() => s.run(['agent', 'capture', 'sh1']).stdout.includes('\nstill-here'));
    void v2;
  });
});

/** The session id (the agent's shell leads its terminal's session). */
function sessionOf(pid: string): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  } catch {
    return -1;
  }
}

function readCmd(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
