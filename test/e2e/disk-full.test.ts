import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillUp, filesUnder, mountsPerTest } from '../helpers/mounts';
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
    expect(listed.map((t) => [t.text, t.state])).toEqual([['task-two', 'delivered']]);
    expect(s.run(['agent', 'capture', 'q1']).stdout).not.toContain('task-one');
  });
});
