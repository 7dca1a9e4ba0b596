import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { procStat } from '../../src/sys/proc';
import { fillUp, filesUnder, mountsPerTest } from '../helpers/mounts';
import { RawClient, socketOf } from '../helpers/raw-client';
import { type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// Nothing lost on a full or read-only disk (issue 16): each test puts the home on a small
// tmpfs or a read-only bind mount (root only; otherwise skipped, saying why), makes the
// fault happen at the worst moment, and checks the clear error and what survived.

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });
const mounts = mountsPerTest();

function spawnOk(s: Sandbox, id: string, cmd: string[]): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', ...cmd]);
  expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
}

/** A sandbox whose home is a tmpfs of `size`; null (the test skipped) when mounting is not allowed. */
function smallHome(ctx: { skip: () => void }, size = '512k'): Sandbox {
  const s = sandbox();
  fs.mkdirSync(s.home, { mode: 0o700 });
  const why = mounts.mount(['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs'], s.home);
  if (why) {
    console.log(`skipped: ${why}`);
    ctx.skip();
  }
  return s;
}

describe('a full disk', { timeout: 60_000 }, () => {
  it('a task the disk refuses is not queued, so it is never delivered, not even twice; no temporary file is left', async (ctx) => {
    const s = smallHome(ctx);
    spawnOk(s, 'q1', ['cat']);
    fillUp(s.home);
    const r = s.run(['agent', 'queue', 'q1', 'task-one']);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: Agent session q1: the queue could not be saved (no space left on the device (ENOSPC)): the task was not queued. Free some disk space, then try again.\n',
    });
    expect(s.run(['agent', 'queue', 'q1', '--list']).stdout).toBe('No tasks queued for agent session q1\n');
    expect(filesUnder(s.home).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // Room again: a later task is delivered, the refused one never.
    fs.rmSync(path.join(s.home, 'fill'));
    expect(s.run(['agent', 'queue', 'q1', 'task-two']).code).toBe(0);
    await waitFor(() => s.run(['agent', 'capture', 'q1']).stdout.includes('task-two'), 20_000);
    const listed = JSON.parse(s.run(['agent', 'queue', 'q1', '--list', '--json']).stdout) as Array<{ text: string; state: string }>;
    expect(listed.map((t) => t.text)).toEqual(['task-two']);
    expect(['submitted', 'started', 'done']).toContain(listed[0]!.state);
    expect(s.run(['agent', 'capture', 'q1']).stdout).not.toContain('task-one');
  });
});

describe('the end of an agent on a disk that cannot take it', { timeout: 60_000 }, () => {
  /** An agent that shows its last words, waits for a line, then exits with code 4. */
  const exitsWith4 = ['bash', '-c', 'echo last-words-of-e1; read x; exit 4'];

  async function endIt(s: Sandbox): Promise<void> {
    expect(s.run(['agent', 'send', 'e1', 'go', '--enter']).code).toBe(0);
    await waitFor(() => !s.processes().some((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').startsWith('symposium-supervisor e1')), 20_000);
  }

  function expectExitedWith4(s: Sandbox): void {
    const list = s.run(['agent', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toBe('Active agent sessions:\n  e1 - Crashed (symposium-agent-e1)  [exited with code 4]\n');
    const cap = s.run(['agent', 'capture', 'e1']);
    expect(cap.code, cap.stderr).toBe(0);
    expect(cap.stdout).toContain('last-words-of-e1');
  }

  it('full: the exit code and the final screen go beside the socket, list says exited with code 4, and they move home once there is room', async (ctx) => {
    const s = smallHome(ctx);
    spawnOk(s, 'e1', exitsWith4);
    await waitFor(() => s.run(['agent', 'capture', 'e1']).stdout.includes('last-words-of-e1'));
    fillUp(s.home);
    await endIt(s);
    expect(fs.readdirSync(s.runtime).filter((f) => f.endsWith('.json')).sort()).toEqual([expect.stringMatching(/-e1\.exit\.json$/), expect.stringMatching(/-e1\.screen\.json$/)]);
    expectExitedWith4(s); // the record could not be saved: shown all the same
    // Room again: the record is saved, the copies move into the session's directory.
    fs.rmSync(path.join(s.home, 'fill'));
    expectExitedWith4(s);
    expect(s.readSessions().e1).toMatchObject({ status: 'Crashed', exit_code: 4 });
    expect(fs.readdirSync(s.runtime).filter((f) => f.endsWith('.json'))).toEqual([]);
    // (and the recording, as far as the disk took it)
    expect(fs.readdirSync(path.join(s.home, 'sessions', 'e1')).filter((f) => !f.startsWith('recording.') && f !== 'events.jsonl' && f !== 'queue.jsonl').sort()).toEqual(['exit.json', 'final-screen.json', 'supervisor.json', 'supervisor.log']);
  });

  it('read-only: the same, and list and capture work on a home where nothing can be written', async (ctx) => {
    const s = sandbox();
    spawnOk(s, 'e1', exitsWith4);
    await waitFor(() => s.run(['agent', 'capture', 'e1']).stdout.includes('last-words-of-e1'));
    const why = mounts.mount(['--bind', s.home], s.home) ?? mounts.mount(['-o', 'remount,bind,ro'], s.home);
    if (why) {
      console.log(`skipped: ${why}`);
      ctx.skip();
    }
    expect(s.run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}e1 - Running/);
    expect(s.run(['agent', 'capture', 'e1']).stdout).toContain('last-words-of-e1');
    await endIt(s);
    expectExitedWith4(s);
    expect(s.run(['agent', 'list']).stderr).toMatch(/^Warning: what changed is shown but not saved: Cannot create the lock file .*read-only/);
  });
});

describe('a held lock on the session file', { timeout: 60_000 }, () => {
  it('does not freeze the supervisor at the agent\'s exit: viewers get the exit and requests are answered while it is held', async () => {
    const s = sandbox();
    // A supervisor that would wait for the lock, waits up to a minute.
    const r = s.run(['agent', 'spawn', '--uuid', 'l1', '--workdir', s.work, '--', 'bash', '-c', 'read x; exit 4'], { env: { SYMPOSIUM_LOCK_TIMEOUT: '60' } });
    expect(r.code, r.stderr).toBe(0);
    const sock = socketOf(s.runtime, 'l1');
    const viewer = await RawClient.hello(sock, { cols: 80, rows: 24 });
    await viewer.next((m) => m.t === 'snapshot');
    // The lock, held by a live process (this one), as a CLI command would hold it.
    const lock = `${s.sessionsFile()}.lock`;
    fs.writeFileSync(lock, `${process.pid} ${procStat(process.pid)!.startTicks} test-holds-it`);
    try {
      viewer.send({ t: 'input', data: 'go\r' });
      expect(await viewer.next((m) => m.t === 'exit')).toMatchObject({ code: 4, signal: null });
      const ctl = await RawClient.hello(sock, { mode: 'control' });
      expect((await ctl.request('status')).result).toMatchObject({ ended: true, exitCode: 4 });
      ctl.destroy();
      expect(fs.existsSync(lock)).toBe(true);
    } finally {
      fs.rmSync(lock, { force: true });
    }
    await waitFor(() => s.readSessions().l1?.status === 'Crashed');
    expect(s.readSessions().l1).toMatchObject({ exit_code: 4 });
    viewer.destroy();
  });
});
