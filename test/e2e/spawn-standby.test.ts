import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPERVISOR_MALLOC_ENV, SUPERVISOR_NODE_FLAGS } from '../../src/held-env';
import { HELLO, SOCKET_NAME, STARTING_NAME, encodeRequest } from '../../src/standby/wire';
import { PtyTerminal } from '../helpers/pty-terminal';
import { argv as cmdline, pidAlive as alive, pidsWithEnv, procStat } from '../../src/sys/proc';
import { environ, fdTargets } from '../helpers/proc-files';
import { CLI, ROOT, type Sandbox, isStandby, sandboxPerTest, waitFor } from '../helpers/sandbox';

// The standby (src/standby/serve.ts): a spawn that finds none, `agent spawn`'s native front
// end (native/spawn.c) starts a CLI that waits under the supervisor's flags; the next
// spawns are handed to it, and a copy of it (a fork, src/standby/copy.ts) runs each and
// becomes that agent's supervisor, while the standby waits for the next. Real front end,
// real standby, real supervisors; hostile clients through real sockets.

const FRONT_END = path.join(ROOT, 'dist', 'symposium-spawn');
const ADDON = path.join(ROOT, 'dist', 'symposium-addon.node');
const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty', SYMPOSIUM_STANDBY: '1' });
const SPAWNED = 'Agent session spawned successfully\n';

function spawnOk(s: Sandbox, id: string, cmd: string[], env: NodeJS.ProcessEnv = {}): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', ...cmd], { env });
  expect(r, r.stderr).toEqual({ code: 0, stdout: SPAWNED, stderr: '' });
}

function supervisorPid(s: Sandbox, id: string): number {
  const rec = s.readSessions()[id]!;
  expect(rec.status, JSON.stringify(rec)).toBe('Running');
  return rec.supervisor_pid as number;
}


/** The standbys waiting in this sandbox (and copies of one still running a command: they
 *  are named as it is until they become a supervisor). */
function standbys(s: Sandbox): number[] {
  return pidsWithEnv('SYMPOSIUM_HOME', s.home).filter(isStandby);
}

/** The parent pid of `pid`. */
function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The standby of this sandbox once it listens: its pid. */
async function standbyPid(s: Sandbox, other = -1): Promise<number> {
  return waitFor(() => {
    if (!fs.existsSync(path.join(s.runtime, SOCKET_NAME)) || fs.existsSync(path.join(s.runtime, STARTING_NAME))) return null;
    const pid = standbys(s).find((p) => p !== other);
    return pid ?? null;
  }, 20_000);
}

/** Sends `request` to the standby's socket and returns all it answers before it hangs up. */
function ask(s: Sandbox, request: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(path.join(s.runtime, SOCKET_NAME));
    let got = '';
    c.on('connect', () => c.write(request));
    c.on('data', (d) => (got += d.toString('utf8')));
    c.on('close', () => resolve(got));
    c.on('error', reject);
  });
}


describe.skipIf(!fs.existsSync(FRONT_END) || !fs.existsSync(ADDON))('agent spawn through the standby', () => {
  it('a spawn starts a standby; the next spawns are run by copies of it, each its agent supervisor as the CLI would have made it; the standby stays', async () => {
    const s = sandbox();
    spawnOk(s, 'st1', ['cat']);
    const standby = await standbyPid(s);
    // Under the supervisor's flags and allocator settings, in a session of its own, no child of the first.
    expect(cmdline(standby).slice(1, 1 + SUPERVISOR_NODE_FLAGS.length)).toEqual(SUPERVISOR_NODE_FLAGS);
    expect(fs.statSync(path.join(s.runtime, SOCKET_NAME)).mode & 0o777).toBe(0o600);
    // The second spawn: its own environment, directory (a relative --workdir) and umask,
    // the caller's stdout and stderr files, its output exact.
    const sub = path.join(s.work, 'sub');
    fs.mkdirSync(sub);
    const out = path.join(s.dir, 'out.txt');
    const err = path.join(s.dir, 'err.txt');
    const agent = 'env > env.txt; umask > umask.txt; exec cat';
    const cmd = `umask 027; cd "$1" && "$0" agent spawn --uuid st2 --workdir sub -- sh -c '${agent}' > "$2" 2> "$3"`;
    const r = spawnSync('sh', ['-c', cmd, CLI, s.work, out, err], { env: { ...s.env, ONLY_SECOND: 'yes', MALLOC_ARENA_MAX: '4' }, timeout: 30_000 });
    expect(r.status, fs.readFileSync(err, 'utf8')).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(SPAWNED);
    expect(fs.readFileSync(err, 'utf8')).toBe('');
    const sup = supervisorPid(s, 'st2');
    expect(sup).not.toBe(standby);
    expect(parentOf(sup)).not.toBe(standby); // detached: nobody here waits for it
    expect(cmdline(sup)[0]).toMatch(/^symposium-supervisor st2\b/);
    expect(alive(standby)).toBe(true);
    const env = await waitFor(() => fs.existsSync(path.join(sub, 'umask.txt')) && fs.readFileSync(path.join(sub, 'env.txt'), 'utf8'));
    expect(env).toContain('ONLY_SECOND=yes\n');
    expect(env).toContain('MALLOC_ARENA_MAX=4\n'); // the user's, not the supervisor's
    expect(env).not.toMatch(/SYMPOSIUM_HELD_|SYMPOSIUM_SUPERVISOR_SET|MALLOC_TRIM_THRESHOLD_/);
    expect(fs.readFileSync(path.join(sub, 'umask.txt'), 'utf8').trim()).toBe('0027');
    // As a supervisor started by the CLI: its log under 1 and 2, nothing of the caller held.
    const log = path.join(s.home, 'sessions', 'st2', 'supervisor.log');
    const fds = fdTargets(sup);
    expect(fds.get(0)).toBe('/dev/null');
    expect([...fds.values()].filter((t) => t === log).length).toBeGreaterThanOrEqual(2);
    expect([...fds.values()].filter((t) => t === out || t === err)).toEqual([]);
    expect(fs.readlinkSync(`/proc/${sup}/cwd`)).toBe(sub);
    expect(fs.readlinkSync(`/proc/${standby}/cwd`)).toBe('/');
    // The agent works; its supervisor tells its own pid; the standby still waits, the same.
    const sent = s.run(['agent', 'send', 'st2', 'hello standby']);
    expect(sent.code, sent.stderr).toBe(0);
    await waitFor(() => s.run(['agent', 'capture', 'st2']).stdout.includes('hello standby'));
    expect(await standbyPid(s)).toBe(standby);
    expect(JSON.parse(fs.readFileSync(path.join(s.runtime, fs.readdirSync(s.runtime).find((f) => f.endsWith('-st2.status.json'))!), 'utf8')).supervisorPid).toBe(sup);
    // As a supervisor started by the CLI: its bundle's source is a map of the file, not in its heap.
    expect(fs.readFileSync(`/proc/${sup}/maps`, 'latin1')).toContain(path.join(ROOT, 'dist', 'supervisor.bundle.js'));
    // A third spawn: another copy.
    spawnOk(s, 'st3', ['cat']);
    const third = supervisorPid(s, 'st3');
    expect(new Set([standby, sup, third]).size).toBe(3);
    // Killing agents leaves the others and the standby alone; a copy ends as a supervisor does.
    expect(s.run(['agent', 'kill', 'st1']).code).toBe(0);
    expect(s.run(['agent', 'kill', 'st2']).code).toBe(0);
    await waitFor(() => !alive(sup));
    expect(alive(standby) && alive(third)).toBe(true);
    expect(standbys(s)).toEqual([standby]);
  });

  it("the caller's terminal size is the agent's default, as without a standby", async () => {
    const s = sandbox();
    spawnOk(s, 'sz1', ['cat']);
    const standby = await standbyPid(s);
    const t = new PtyTerminal([CLI, 'agent', 'spawn', '--uuid', 'sz2', '--workdir', s.work, '--', 'sh', '-c', 'stty size > size.txt; exec cat'], {
      cols: 91,
      rows: 33,
      env: s.env,
      cwd: s.work,
    });
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('Agent session spawned successfully');
    expect(supervisorPid(s, 'sz2')).not.toBe(standby);
    expect(alive(standby)).toBe(true);
    expect(await waitFor(() => fs.existsSync(path.join(s.work, 'size.txt')) && fs.readFileSync(path.join(s.work, 'size.txt'), 'utf8'))).toBe('33 91\n');
  });

  it('errors, help and unknown options answer exactly as without a standby; the copy that answered ends, the standby stays', async () => {
    const s = sandbox();
    spawnOk(s, 'er1', ['cat']);
    const cases: string[][] = [
      ['agent', 'spawn', '--uuid', 'er1', '--workdir', s.work, '--', 'cat'], // taken
      ['agent', 'spawn', '--uuid', 'er2', '--workdir', path.join(s.work, 'missing'), '--', 'cat'],
      ['agent', 'spawn', '--bogus'],
      ['agent', 'spawn', '--help'],
    ];
    const standby = await standbyPid(s);
    for (const args of cases) {
      const cold = s.run(args, { env: { SYMPOSIUM_STANDBY: '0' } });
      const warm = s.run(args);
      expect(warm, args.join(' ')).toEqual(cold);
      // A copy ran it and ended (through every way out Node has, none of which may hang
      // without Node's worker threads); the standby waits on.
      await waitFor(() => standbys(s).length === 1);
      expect(standbys(s)).toEqual([standby]);
    }
    spawnOk(s, 'again', ['cat']);
    expect(supervisorPid(s, 'again')).not.toBe(standby);
  });

  it('spawns at once, from none: one starts the standby and runs as usual, the others wait for it; all run, each its own supervisor; one standby', async () => {
    const s = sandbox();
    spawnOk(s, 'c0', ['cat'], { SYMPOSIUM_STANDBY: '0' }); // the runtime directory made, no standby
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    const results = await Promise.all(ids.map((id) => s.runAsync(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', 'cat'], { env: { SPAWN_MARK: id } })));
    for (const r of results) expect(r, r.stderr).toEqual({ code: 0, stdout: SPAWNED, stderr: '' });
    const standby = await standbyPid(s);
    const pids = ids.map((id) => supervisorPid(s, id));
    expect(new Set(pids).size).toBe(ids.length);
    expect(pids).not.toContain(standby);
    // A process's first environment is what it was started with: a copy's is the standby's
    // (its starter's mark), a CLI started for its own spawn has its own. One started the
    // standby and ran as usual; the others waited for it (one more may have found it late).
    const cold = ids.filter((id, i) => environ(pids[i]!).get('SPAWN_MARK') === id);
    expect(cold.length, `started as usual: ${cold.join(' ')}`).toBeGreaterThanOrEqual(1);
    expect(cold.length, `started as usual: ${cold.join(' ')}`).toBeLessThanOrEqual(2);
    expect(environ(standby).get('SPAWN_MARK')).toBe(cold[0]);
    await new Promise((r) => setTimeout(r, 1500)); // any second start would have listened by now
    expect(standbys(s)).toEqual([standby]);
    // Then at once again: all copies.
    const more = ['d1', 'd2', 'd3', 'd4'];
    const again = await Promise.all(more.map((id) => s.runAsync(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', 'cat'])));
    for (const r of again) expect(r, r.stderr).toEqual({ code: 0, stdout: SPAWNED, stderr: '' });
    for (const id of more) {
      const pid = supervisorPid(s, id);
      expect(pid).not.toBe(standby);
      expect(environ(pid).get('SPAWN_MARK')).toBe(cold[0]); // a copy
    }
    expect(standbys(s)).toEqual([standby]);
  });

  it('hostile and broken clients: garbage, silence, a huge length, another install; it serves on, or ends for another install', async () => {
    const s = sandbox();
    spawnOk(s, 'h1', ['cat']);
    const standby = await standbyPid(s);
    const dist = fs.realpathSync(path.join(ROOT, 'dist'));
    expect(await ask(s, encodeRequest(['nonsense']))).toMatch(/^refused not a standby request/);
    expect(await ask(s, encodeRequest([HELLO, dist, 'spawn', '/', 'x']))).toMatch(/^refused a malformed spawn request/);
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(0x7fffffff);
    expect(await ask(s, huge)).toBe('');
    // Silence: dropped after its second, the standby still there.
    const silent = net.connect(path.join(s.runtime, SOCKET_NAME));
    await new Promise<void>((resolve) => silent.on('close', () => resolve()));
    // A spawn request without descriptors (Node cannot send them): refused, nothing run.
    expect(await ask(s, encodeRequest([HELLO, dist, 'spawn', s.work, '18', '0', '0', CLI, '2', 'agent', 'spawn', '0']))).toMatch(/^refused a spawn request without stdout/);
    expect(alive(standby)).toBe(true);
    // Still serves a spawn.
    spawnOk(s, 'h2', ['cat']);
    expect(supervisorPid(s, 'h2')).not.toBe(standby);
    expect(await standbyPid(s)).toBe(standby);
    // Another install (or build): `stale`, and that standby ends; the spawn then runs as usual.
    expect(await ask(s, encodeRequest([HELLO, '/elsewhere/dist', 'spawn', s.work, '18', '0', '0', CLI, '0', '0']))).toBe('stale\n');
    await waitFor(() => !alive(standby));
  });

  it('SYMPOSIUM_STANDBY=0: none is asked, none is started; stop; a symlink in the socket\'s place is never followed; the idle time', async () => {
    const s = sandbox();
    spawnOk(s, 'o1', ['cat'], { SYMPOSIUM_STANDBY: '0' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(fs.existsSync(path.join(s.runtime, SOCKET_NAME))).toBe(false);
    spawnOk(s, 'o2', ['cat']);
    const standby = await standbyPid(s);
    spawnOk(s, 'o3', ['cat'], { SYMPOSIUM_STANDBY: '0' });
    expect(supervisorPid(s, 'o3')).not.toBe(standby);
    expect(alive(standby)).toBe(true);
    // `stop` ends it and takes its socket away.
    const dist = fs.realpathSync(path.join(ROOT, 'dist'));
    expect(await ask(s, encodeRequest([HELLO, dist, 'stop']))).toBe('stopping\n');
    await waitFor(() => !alive(standby));
    expect(fs.existsSync(path.join(s.runtime, SOCKET_NAME))).toBe(false);
    // A symlink in the socket's place (to a listener of someone else's): never connected to.
    const evil = path.join(s.dir, 'evil.sock');
    let connected = 0;
    const listener = net.createServer((c) => {
      connected++;
      c.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(evil, resolve));
    try {
      fs.symlinkSync(evil, path.join(s.runtime, SOCKET_NAME));
      spawnOk(s, 'o4', ['cat'], { SYMPOSIUM_STANDBY_IDLE: '1' });
      expect(connected).toBe(0);
    } finally {
      listener.close();
    }
    // The standby o4's spawn started replaced the symlink; unused for SYMPOSIUM_STANDBY_IDLE seconds, it ends.
    const idle = await standbyPid(s);
    expect(fs.lstatSync(path.join(s.runtime, SOCKET_NAME)).isSocket()).toBe(true);
    await waitFor(() => !alive(idle), 10_000);
    expect(fs.existsSync(path.join(s.runtime, SOCKET_NAME))).toBe(false);
  });

  it('a caller of another context (limits, niceness) is refused: its spawn runs as usual, with its own, and the standby stays', async () => {
    const s = sandbox();
    spawnOk(s, 'cx1', ['cat']);
    const standby = await standbyPid(s);
    const agent = `ulimit -Hn > limit.txt; cut -d' ' -f19 /proc/$$/stat > nice.txt; exec cat`;
    const cases: Array<[string, string, string]> = [
      ['ulimit -n 2000', 'limit.txt', '2000'],
      ['renice -n 7 -p $$ > /dev/null', 'nice.txt', '7'],
    ];
    for (const [prefix, file, expected] of cases) {
      const id = `cx${cases.findIndex((c) => c[0] === prefix) + 2}`;
      const dir = path.join(s.work, id);
      fs.mkdirSync(dir);
      const r = spawnSync('sh', ['-c', `${prefix}; exec "$0" agent spawn --uuid ${id} --workdir "$1" -- sh -c "$2"`, CLI, dir, agent], { env: s.env, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(SPAWNED);
      expect(supervisorPid(s, id)).not.toBe(standby);
      expect(await waitFor(() => fs.existsSync(path.join(dir, file)) && fs.readFileSync(path.join(dir, file), 'utf8').trim())).toBe(expected);
    }
    expect(alive(standby)).toBe(true);
    // The same context as its own: taken.
    spawnOk(s, 'cx9', ['cat']);
    expect(supervisorPid(s, 'cx9')).not.toBe(standby);
    expect(alive(standby)).toBe(true);
  });

  it("the user's Ctrl-C while a copy of the standby runs the spawn, before it left the terminal: both end, nothing is made, as without a standby; the standby stays", async () => {
    const s = sandbox();
    spawnOk(s, 'in1', ['cat']);
    const standby = await standbyPid(s);
    // The sessions file's lock, held by this process: the spawn waits for it.
    const lock = `${path.join(s.home, 'agent-sessions.json')}.lock`;
    fs.writeFileSync(lock, `${process.pid} ${procStat(process.pid)!.startTicks} test`);
    const child = spawn(CLI, ['agent', 'spawn', '--uuid', 'in2', '--workdir', s.work, '--', 'cat'], { env: { ...s.env, SYMPOSIUM_LOCK_TIMEOUT: '30' }, stdio: 'ignore' });
    const ended = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      // Taken: a copy runs it (named as the standby until it becomes a supervisor).
      const copy = await waitFor(() => standbys(s).find((p) => p !== standby));
      child.kill('SIGINT');
      expect(await ended).toBe('SIGINT');
      await waitFor(() => !alive(copy));
      expect(alive(standby)).toBe(true);
    } finally {
      fs.rmSync(lock, { force: true });
    }
    expect(s.readSessions().in2).toBeUndefined();
    expect(s.processes().filter((p) => cmdline(p)[0]?.startsWith('symposium-supervisor in2'))).toEqual([]);
    // Past the terminal, a Ctrl-C no longer reaches it: a spawn interrupted after its answer stays.
    spawnOk(s, 'in4', ['cat']);
    const sup = supervisorPid(s, 'in4');
    process.kill(sup, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(sup)).toBe(true);
  });

  it('agent list runs in a copy of the standby when one listens, answering exactly as without one; it never starts one', async () => {
    const s = sandbox();
    // None listens: the list runs as usual and starts none.
    expect(s.run(['agent', 'list'])).toEqual({ code: 0, stdout: 'No active agent sessions\n', stderr: '' });
    spawnOk(s, 'l1', ['cat'], { SYMPOSIUM_STANDBY: '0' });
    expect(s.run(['agent', 'list']).code).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(fs.existsSync(path.join(s.runtime, SOCKET_NAME))).toBe(false);
    expect(fs.existsSync(path.join(s.runtime, STARTING_NAME))).toBe(false);
    expect(standbys(s)).toEqual([]);
    // A standby unused for 4 s ends; lists every ~0.3 s keep it for twice that: each ran in a copy of it.
    spawnOk(s, 'l2', ['cat'], { SYMPOSIUM_STANDBY_IDLE: '4' });
    const standby = await standbyPid(s);
    await waitFor(() => s.readSessions().l2?.status === 'Running');
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      expect(s.run(['agent', 'list']).code).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(alive(standby)).toBe(true);
    // The same answers as without it: the table, JSON, an error, the help (compared once
    // the agents' states are settled: a list reads them live).
    for (const args of [['agent', 'list'], ['agent', 'list', '--json'], ['agent', 'list', '--bogus'], ['agent', 'list', '--help']]) {
      await waitFor(() => {
        const cold = s.run(args, { env: { SYMPOSIUM_STANDBY: '0' } });
        const warm = s.run(args);
        return JSON.stringify(warm) === JSON.stringify(cold) ? true : null;
      }, 10_000);
    }
    expect(s.run(['agent', 'list', '--bogus'])).toMatchObject({ code: 1, stdout: '', stderr: "Error: unknown option '--bogus'\n" });
    // A run of another command than `agent list` is refused (its copy would leave as soon
    // as the command's answer is out: a server or a follower would be cut short).
    const dist = fs.realpathSync(path.join(ROOT, 'dist'));
    const other = encodeRequest([HELLO, dist, 'run', s.work, '18', '0', '0', CLI, '2', 'agent', 'status', '1', `PATH=${process.env.PATH}`]);
    expect(await ask(s, other)).toBe('refused a run of another command than agent list\n');
    // The caller's pipe is as it was handed over once the command is done (Node makes a pipe
    // it writes to non-blocking, and only its exit undoes that): what comes next in the
    // same pipe reads its flags (octal, 04000 = O_NONBLOCK).
    const flags = spawnSync('sh', ['-c', `"$0" agent list --help; sed -n 's/^flags:[[:space:]]*//p' /proc/self/fdinfo/1`, CLI], { env: s.env, cwd: s.work, encoding: 'utf8' });
    expect(Number.parseInt(flags.stdout.trim().split('\n').pop()!, 8) & 0o4000, flags.stdout).toBe(0);
    // A copy ran each and ended; the standby waits on, then ends unused.
    await waitFor(() => standbys(s).length === 1);
    expect(standbys(s)).toEqual([standby]);
    await waitFor(() => !alive(standby), 15_000);
  });

  it("a standby stopped, then killed before it answers: the spawn runs as usual; the standby's allocator settings are the supervisor's", async () => {
    const s = sandbox();
    spawnOk(s, 'k1', ['cat']);
    const standby = await standbyPid(s);
    const env = environ(standby);
    for (const [name, value] of Object.entries(SUPERVISOR_MALLOC_ENV)) expect(env.get(name), name).toBe(value);
    process.kill(standby, 'SIGSTOP');
    const pending = s.runAsync(['agent', 'spawn', '--uuid', 'k2', '--workdir', s.work, '--', 'cat']);
    // It took the request (the kernel queued it); killed before it answers: no `ok`, so after
    // the front end's wait the spawn runs as usual.
    await new Promise((r) => setTimeout(r, 300));
    process.kill(standby, 'SIGKILL');
    const r = await pending;
    expect(r, r.stderr).toEqual({ code: 0, stdout: SPAWNED, stderr: '' });
    expect(supervisorPid(s, 'k2')).not.toBe(standby);
  });
});
