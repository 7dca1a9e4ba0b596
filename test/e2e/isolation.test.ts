import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidAlive, pidsWithEnv } from '../../src/sys/proc';
import { CLI, type RunResult, type Sandbox, isStandby, sandboxPerTest, waitFor } from '../helpers/sandbox';
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
        `Error: ${s.home} is owned by uid 0, not by you (uid ${NOBODY}); refusing to use it (its owner could change our files). Remove it, or set SYMPOSIUM_HOME to a directory of yours.\n`,
      );
    }
    expect(s.run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}secret - Running/);
  });
});

/** Whether `pid` holds a listening TCP socket (of /proc/net/tcp and tcp6, matched by inode). */
function listensOnTcp(pid: number): boolean {
  const listening = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'latin1').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A') listening.add(f[9]!); // st LISTEN; f[9] the inode
    }
  }
  return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try {
      return listening.has(/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '');
    } catch {
      return false;
    }
  });
}

describe("Node's inspector", () => {
  it('SIGUSR1 opens no debugging port in a supervisor, the standby or the MCP server (anyone could connect to it); each goes on', async () => {
    const s = sandbox();
    spawnOk(s, 'u1', ['cat']);
    const supervisor = s.readSessions().u1!.supervisor_pid as number;
    const standby = await waitFor(() => pidsWithEnv('SYMPOSIUM_HOME', s.home).find(isStandby), 20_000);
    const mcp = spawn(CLI, ['mcp', 'serve'], { env: s.env, cwd: s.work, stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      // Up once it answers.
      let out = '';
      let err = '';
      mcp.stdout.on('data', (d: Buffer) => (out += d.toString()));
      mcp.stderr.on('data', (d: Buffer) => (err += d.toString()));
      mcp.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } })}\n`);
      await waitFor(() => out.includes('"id":1'), 20_000);
      const pids = [supervisor, standby, mcp.pid!];
      for (const pid of pids) expect(listensOnTcp(pid), `pid ${pid}`).toBe(false);
      for (const pid of pids) process.kill(pid, 'SIGUSR1');
      await new Promise((r) => setTimeout(r, 1000));
      for (const pid of pids) {
        expect(pidAlive(pid), `pid ${pid}`).toBe(true);
        expect(listensOnTcp(pid), `pid ${pid}`).toBe(false);
      }
      // Node says "Debugger listening", or "Starting inspector … failed" when the port is taken.
      expect(fs.readFileSync(path.join(s.home, 'sessions', 'u1', 'supervisor.log'), 'utf8')).not.toMatch(/inspector|Debugger/i);
      expect(fs.existsSync(path.join(s.runtime, 'standby.log')) ? fs.readFileSync(path.join(s.runtime, 'standby.log'), 'utf8') : '').not.toMatch(/inspector|Debugger/i);
      expect(err).not.toMatch(/inspector|Debugger/i);
      // The agent and the standby still serve.
      expect(s.run(['agent', 'send', 'u1', 'still here']).code).toBe(0);
      await waitFor(() => s.run(['agent', 'capture', 'u1']).stdout.includes('still here'));
      spawnOk(s, 'u2', ['cat']);
      // Run by a copy of the standby, which keeps the inspector closed too.
      const copy = s.readSessions().u2!.supervisor_pid as number;
      expect(copy).not.toBe(standby);
      expect(pidAlive(standby)).toBe(true);
      process.kill(copy, 'SIGUSR1');
      await new Promise((r) => setTimeout(r, 500));
      expect(pidAlive(copy) && !listensOnTcp(copy)).toBe(true);
    } finally {
      mcp.kill('SIGKILL');
    }
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

describe('directories and files someone else could have made first', () => {
  /** Runs the CLI as another uid (no groups) with exactly `env`. */
  function runAs(uid: number, args: string[], env: NodeJS.ProcessEnv): RunResult & { unreadable: boolean } {
    const r = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, CLI, ...args], { encoding: 'utf8', env, cwd: '/', timeout: 15_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, unreadable: r.stderr.includes('Cannot find module') };
  }

  it('HOME unset: the home comes from the password database, never a shared directory another user made first', (ctx) => {
    if (!IS_ROOT || spawnSync('setpriv', ['--version']).status !== 0) {
      console.log('skipped: needs root and setpriv to run the attacker and the victim as two other users');
      ctx.skip();
    }
    const s = sandbox();
    fs.chmodSync(s.dir, 0o755);
    // A world-writable TMPDIR, as /tmp is; the attacker (uid 65533) plants a state
    // directory where a HOME-less tool that fell back to the temporary directory looks.
    const shared = path.join(s.dir, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    const pwned = path.join(shared, 'PWNED');
    const plant = `
      const fs = require('fs');
      fs.mkdirSync(process.argv[1] + '/.symposium', { mode: 0o777 });
      fs.chmodSync(process.argv[1] + '/.symposium', 0o777);
      const t = { secs_since_epoch: 1757433923, nanos_since_epoch: 0 };
      const rec = { uuid: 'evil', tmux_session_name: 'symposium-agent-evil', agent_command: ['touch', process.argv[2]], working_directory: '/', status: 'Crashed', created_at: t, last_attached: null, backend: 'pty' };
      fs.writeFileSync(process.argv[1] + '/.symposium/agent-sessions.json', JSON.stringify({ evil: rec }), { mode: 0o666 });`;
    const planted = spawnSync('setpriv', ['--reuid=65533', '--regid=65533', '--clear-groups', process.execPath, '-e', plant, shared, pwned], { encoding: 'utf8' });
    expect(planted.status, planted.stderr).toBe(0);
    // The victim (nobody, whose home in the password database is /nonexistent) has no HOME.
    const env = { PATH: process.env.PATH, TMPDIR: shared };
    const list = runAs(NOBODY, ['agent', 'list'], env);
    if (list.unreadable) {
      console.log('skipped: the checkout is not readable by nobody');
      ctx.skip();
    }
    expect(list).toMatchObject({ code: 0, stdout: 'No active agent sessions\n', stderr: '' });
    expect(runAs(NOBODY, ['agent', 'restart', 'evil'], env)).toMatchObject({ code: 1, stderr: 'Error: Agent session evil not found\n' });
    expect(fs.existsSync(pwned)).toBe(false);
  });

  it('a home, sessions/ or sessions/ID/ that is not ours, is a symlink or is open to others is refused with what to do; a 755 home of ours is tightened', (ctx) => {
    if (!IS_ROOT) {
      console.log('skipped: chown to another uid needs root');
      ctx.skip();
    }
    const s = sandbox();
    spawnOk(s, 'ok1');
    const sessions = path.join(s.home, 'sessions');
    const refused = (args: string[], message: string) => {
      const r = s.run(args);
      expect(r, r.stderr).toEqual({ code: 1, stdout: '', stderr: `Error: ${message}\n` });
    };
    const spawnArgs = (id: string) => ['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', 'sleep', '300'];

    // Another user made the session's directory first (open to all, as an attacker would).
    const theirs = path.join(sessions, 'x1');
    fs.mkdirSync(theirs);
    fs.chmodSync(theirs, 0o777);
    fs.chownSync(theirs, NOBODY, NOBODY);
    refused(spawnArgs('x1'), `${theirs} is owned by uid ${NOBODY}, not by you (uid 0); refusing to use it (its owner could change our files). Remove it, or set SYMPOSIUM_HOME to a directory of yours.`);
    expect(fs.readdirSync(theirs)).toEqual([]); // nothing of ours went in
    // One of ours that others may write to.
    const open = path.join(sessions, 'x2');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    refused(spawnArgs('x2'), `${open} can be written by others (mode 777); refusing to use it (they could have changed our files). Check what is in it, then run: chmod 700 ${open}`);
    // A symlink where the session's directory should be.
    const elsewhere = path.join(s.dir, 'elsewhere');
    fs.mkdirSync(elsewhere, { mode: 0o700 });
    fs.symlinkSync(elsewhere, path.join(sessions, 'x3'));
    refused(spawnArgs('x3'), `${path.join(sessions, 'x3')} is a symlink; refusing to use it (someone could point it elsewhere). Replace it with a directory of yours, or set SYMPOSIUM_HOME to a private directory.`);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    // A symlink planted as a file of ours: never written through.
    const victim = path.join(s.dir, 'victim');
    fs.writeFileSync(victim, 'untouched');
    fs.mkdirSync(path.join(sessions, 'x4'), { mode: 0o700 });
    fs.symlinkSync(victim, path.join(sessions, 'x4', 'supervisor.log'));
    refused(
      spawnArgs('x4'),
      `Cannot open the supervisor's log ${path.join(sessions, 'x4', 'supervisor.log')}: a symbolic link is in the way (refused) (ELOOP). Remove the symlink (we never write through one), then try again.`,
    );
    expect(fs.readFileSync(victim, 'utf8')).toBe('untouched');
    expect(Object.keys(s.readSessions())).toEqual(['ok1']);

    // The home itself: open to others, then owned by someone else: even reading is refused.
    fs.chmodSync(s.home, 0o777);
    refused(['agent', 'list'], `${s.home} can be written by others (mode 777); refusing to use it (they could have changed our files). Check what is in it, then run: chmod 700 ${s.home}`);
    fs.chmodSync(s.home, 0o700);
    fs.chownSync(s.home, NOBODY, NOBODY);
    refused(['agent', 'list'], `${s.home} is owned by uid ${NOBODY}, not by you (uid 0); refusing to use it (its owner could change our files). Remove it, or set SYMPOSIUM_HOME to a directory of yours.`);
    fs.chownSync(s.home, 0, 0);
    // Ours and only readable by others (what the original tool created): made private, used.
    fs.chmodSync(s.home, 0o755);
    expect(s.run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}ok1 - Running/);
    expect(fs.statSync(s.home).mode & 0o777).toBe(0o700);
  });
});
