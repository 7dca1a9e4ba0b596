import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fillUp } from '../helpers/mounts';
import { type RunResult, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// Issue 7: a full disk, a read-only or blocked SYMPOSIUM_HOME: a clear error that says
// what to do, and the previous file intact. Errors carry no stack unless SYMPOSIUM_DEBUG=1.

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });
const mounts: string[] = [];
// Registered after the sandbox's hook, so it runs before it (hooks unwind as a stack):
// lazy unmounts, since a supervisor may still hold a file open under the mount point.
afterEach(() => {
  for (const m of mounts.splice(0)) spawnSync('umount', ['-l', m]);
});

const IS_ROOT = process.getuid?.() === 0;

/** Mounts something for this test; null (and why) when this machine does not allow it. */
function mount(args: string[], target: string): string | null {
  if (!IS_ROOT) return 'the tests do not run as root';
  let r = spawnSync('mount', [...args, target], { encoding: 'utf8' });
  // A read-only remount is refused while a file is open for writing through the mount: the
  // agent's supervisor may still be opening its files just after the spawn answered.
  for (let tries = 0; r.status !== 0 && /busy/.test(r.stderr) && tries < 20; tries++) {
    spawnSync('sleep', ['0.1']);
    r = spawnSync('mount', [...args, target], { encoding: 'utf8' });
  }
  if (r.status !== 0) return `mount ${args.join(' ')} failed: ${(r.stderr || String(r.error)).trim()}`;
  if (!mounts.includes(target)) mounts.push(target);
  return null;
}

function spawnOk(s: Sandbox, id: string): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', 'sleep', '300']);
  expect(r, r.stderr).toEqual({ code: 0, stdout: 'Agent session spawned successfully\n', stderr: '' });
}

/** One `Error: …` line, exit 1, nothing on stdout, no stack trace. */
function expectUserError(r: RunResult, re: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^Error: [^\n]+\n$/);
  expect(r.stderr).toMatch(re);
}

describe('disk trouble', () => {
  it('a full disk: spawn fails with a clear error, the previous file stays intact, all works again once there is room', async (ctx) => {
    const s = sandbox();
    fs.mkdirSync(s.home, { mode: 0o700 });
    const why = mount(['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs'], s.home);
    if (why) {
      console.log(`skipped: ${why}`);
      ctx.skip();
    }
    spawnOk(s, 'a1');
    spawnOk(s, 'a2');
    // A supervisor loads its recording and events after the agent runs (and spawn returns):
    // their first writes are done before the disk is filled, or they could take its last page.
    for (const id of ['a1', 'a2']) {
      const log = path.join(s.home, 'sessions', id, 'supervisor.log');
      await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('supervising'), 20_000);
      await waitFor(() => fs.readFileSync(path.join(s.home, 'sessions', id, 'events.jsonl'), 'utf8').includes('spawned'), 20_000);
    }
    const before = fs.readFileSync(s.sessionsFile(), 'utf8');

    // Room for the lock file but not for the new session file: the write itself fails.
    // Filled twice: what the running supervisors write meanwhile must not change the room left.
    fillUp(s.home, 1);
    await new Promise((r) => setTimeout(r, 500));
    fillUp(s.home, 1);
    const r1 = s.run(['agent', 'spawn', '--uuid', 'a3', '--workdir', s.work, '--', 'sleep', '300']);
    expectUserError(
      r1,
      new RegExp(`^Error: Cannot write the session file ${s.sessionsFile()}: no space left on the device \\(ENOSPC\\)\\. The previous file was left intact\\. Free some disk space and try again\\.\\n$`),
    );
    expect(fs.readFileSync(s.sessionsFile(), 'utf8')).toBe(before);

    // No room at all: even the lock cannot be made.
    fillUp(s.home, 0);
    const r2 = s.run(['agent', 'spawn', '--uuid', 'a3', '--workdir', s.work, '--', 'sleep', '300']);
    expectUserError(r2, /^Error: Cannot create the lock file .*: no space left on the device \(ENOSPC\)\. Nothing was changed\. Free some disk space and try again\.\n$/);
    expect(fs.readFileSync(s.sessionsFile(), 'utf8')).toBe(before);
    expect(fs.readdirSync(s.home).sort()).toEqual(['agent-sessions.json', 'fill', 'sessions']);

    // Reading verbs still work on a full disk.
    const list = s.run(['agent', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^Active agent sessions:\n {2}a1 - Running.*\n {2}a2 - Running.*\n$/);
    expect(s.run(['agent', 'send', 'a1', 'hello']).code).toBe(0);

    fs.rmSync(path.join(s.home, 'fill'));
    spawnOk(s, 'a3');
    expect(Object.keys(s.readSessions())).toEqual(['a1', 'a2', 'a3']);
  });

  it('a session directory and runtime directory removed under a running agent: its supervisor leaves once the agent ends, it does not retry for ever', async () => {
    const s = sandbox();
    // No standby: one starting after this spawn would write into the runtime directory as
    // the test removes it (ENOTEMPTY, seen once in a fresh-clone run).
    const r = s.run(['agent', 'spawn', '--uuid', 'gone', '--workdir', s.work, '--', 'sh', '-c', 'sleep 2; echo bye'], { env: { SYMPOSIUM_STANDBY: '0' } });
    expect(r, r.stderr).toEqual({ code: 0, stdout: 'Agent session spawned successfully\n', stderr: '' });
    const pid = s.readSessions().gone!.supervisor_pid as number;
    fs.rmSync(path.join(s.home, 'sessions', 'gone'), { recursive: true, force: true });
    fs.rmSync(s.runtime, { recursive: true, force: true });
    // The agent ends after 2 s; nothing can take its end (no directory, no socket) and nobody
    // could ask for it: the supervisor must not stay, writing the end again every second.
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => !alive(), 20_000);
  });

  it('a read-only SYMPOSIUM_HOME: a clear error, the file intact, list still works', async (ctx) => {
    const s = sandbox();
    spawnOk(s, 'a1');
    // The supervisor opens its recording and log after the spawn answered: once through the
    // bind mount, a file open for writing keeps the mount from going read-only.
    const log = path.join(s.home, 'sessions', 'a1', 'supervisor.log');
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('supervising'));
    const before = fs.readFileSync(s.sessionsFile(), 'utf8');
    const why = mount(['--bind', s.home], s.home) ?? mount(['-o', 'remount,bind,ro'], s.home);
    if (why) {
      console.log(`skipped: ${why}`);
      ctx.skip();
    }
    const r = s.run(['agent', 'spawn', '--uuid', 'a2', '--workdir', s.work, '--', 'sleep', '300']);
    expectUserError(
      r,
      /^Error: Cannot create the lock file .*agent-sessions\.json\.lock: the file system is read-only \(EROFS\)\. Nothing was changed\. Remount it read-write, or set SYMPOSIUM_HOME to a writable directory\.\n$/,
    );
    expect(fs.readFileSync(s.sessionsFile(), 'utf8')).toBe(before);
    expect(s.run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}a1 - Running/);
  });

  it('a SYMPOSIUM_HOME that cannot be created, and a session file that is a directory', () => {
    const s = sandbox();
    const blocker = path.join(s.dir, 'blocker');
    fs.writeFileSync(blocker, 'not a directory');
    const r1 = s.run(['agent', 'spawn', '--uuid', 'a1', '--workdir', s.work, '--', 'sleep', '300'], { env: { SYMPOSIUM_HOME: path.join(blocker, 'home') } });
    expectUserError(r1, /^Error: Cannot create the directory .*blocker\/home: a part of the path is not a directory \(ENOTDIR\)\. Move the thing in the way aside, or set SYMPOSIUM_HOME to another directory\.\n$/);

    fs.mkdirSync(s.sessionsFile(), { recursive: true });
    for (const args of [['agent', 'list'], ['agent', 'spawn', '--uuid', 'a1', '--workdir', s.work, '--', 'sleep', '300']]) {
      expectUserError(
        s.run(args),
        new RegExp(`^Error: Cannot read the session file ${s.sessionsFile()}: it is a directory \\(EISDIR\\)\\. Move the thing in the way aside, or set SYMPOSIUM_HOME to another directory\\.\\n$`),
      );
    }
    expect(fs.statSync(s.sessionsFile()).isDirectory()).toBe(true);
  });
});

describe('error output', () => {
  it('has no stack trace for user errors; SYMPOSIUM_DEBUG=1 adds the details, with the underlying cause', () => {
    const s = sandbox();
    const debug = { env: { SYMPOSIUM_DEBUG: '1' } };
    const cases: Array<{ args: string[]; first: string; cause?: RegExp; setup?: () => void }> = [
      { args: ['agent', 'kill', 'nope'], first: 'Error: Agent session nope not found' },
      { args: ['agent', 'attach', 'bad/id'], first: `Error: Invalid agent id "bad/id": use 1 to 64 letters, digits, '-' or '_'` },
      { args: ['agent', 'spawn', '--uuid', 'w', '--workdir', '/nonexistent-dir', '--', 'true'], first: 'Error: Working directory /nonexistent-dir does not exist' },
      {
        args: ['agent', 'list'],
        first: `Error: Cannot read the session file ${s.sessionsFile()}: it is a directory (EISDIR). Move the thing in the way aside, or set SYMPOSIUM_HOME to another directory.`,
        cause: /\nCaused by: Error: EISDIR: illegal operation on a directory, read\n/,
        setup: () => fs.mkdirSync(s.sessionsFile(), { recursive: true }),
      },
    ];
    for (const c of cases) {
      c.setup?.();
      const plain = s.run(c.args);
      expect(plain, c.args.join(' ')).toEqual({ code: 1, stdout: '', stderr: `${c.first}\n` });
      const detailed = s.run(c.args, debug);
      expect(detailed.code).toBe(1);
      expect(detailed.stderr.startsWith(`${c.first}\n`)).toBe(true);
      expect(detailed.stderr).toMatch(/\n {4}at /);
      if (c.cause) expect(detailed.stderr).toMatch(c.cause);
    }
  });
});
