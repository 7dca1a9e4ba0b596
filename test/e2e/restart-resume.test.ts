import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupMembers, pidAlive } from '../../src/sys/proc';
import { sandboxPerTest, waitFor } from '../helpers/sandbox';

// After a reboot every agent is Crashed: `restart --all` brings each back, and a known
// agent resumes its last conversation (claude --continue…) unless --fresh.

const sandbox = sandboxPerTest();

/** A stand-in `claude` on PATH that shows the arguments it got, then waits. */
function fakeClaude(dir: string): string {
  const bin = path.join(dir, 'fakebin');
  fs.mkdirSync(bin);
  const file = path.join(bin, 'claude');
  fs.writeFileSync(file, '#!/bin/sh\necho "ARGS: $*"\nread line\n', { mode: 0o755 });
  return bin;
}

describe('restart', () => {
  it('after a reboot, restart --all resumes each known agent; --fresh runs the recorded command', async () => {
    const sb = sandbox();
    const env = { PATH: `${fakeClaude(sb.dir)}:${process.env.PATH}` };
    for (const id of ['c1', 'c2']) expect(sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--', 'claude', '--model', 'opus'], { env }).code).toBe(0);
    expect(sb.run(['agent', 'spawn', '--uuid', 'done', '--workdir', sb.work, '--', 'true'], { env }).code).toBe(0);
    await waitFor(() => sb.run(['agent', 'capture', 'c2']).stdout.includes('ARGS: --model opus'));
    // A reboot: every supervisor and agent gone at once.
    for (const id of ['c1', 'c2']) {
      const rec = sb.readSessions()[id]!;
      process.kill(rec.supervisor_pid as number, 'SIGKILL');
      process.kill(-(rec.agent_pid as number), 'SIGKILL');
    }
    await waitFor(() => ['c1', 'c2'].every((id) => !pidAlive(sb.readSessions()[id]!.supervisor_pid as number) && groupMembers(sb.readSessions()[id]!.agent_pid as number).length === 0));
    await waitFor(() => /c1 - Crashed[\s\S]*c2 - Crashed/.test(sb.run(['agent', 'list']).stdout));

    const all = sb.run(['agent', 'restart', '--all'], { env });
    expect(all).toEqual({ code: 0, stdout: 'Agent session c1 restarted\nAgent session c2 restarted\n', stderr: '' });
    await waitFor(() => sb.run(['agent', 'capture', 'c1']).stdout.includes('ARGS: --model opus --continue'));
    // The record keeps the command as it was given; `done` exited by itself and stays ended.
    expect(sb.readSessions().c1!.agent_command).toEqual(['claude', '--model', 'opus']);
    expect(sb.run(['agent', 'list']).stdout).toMatch(/done - Stopped/);

    expect(sb.run(['agent', 'kill', 'c2']).code).toBe(0);
    expect(sb.run(['agent', 'spawn', '--uuid', 'c2', '--workdir', sb.work, '--', 'sh', '-c', 'exit 1']).code).toBe(0);
    await waitFor(() => sb.run(['agent', 'list']).stdout.includes('c2 - Crashed'));
    expect(sb.run(['agent', 'restart', 'c1'])).toMatchObject({ code: 1 });
    expect(sb.run(['agent', 'send', 'c1', '--enter']).code).toBe(0);
    await waitFor(() => /c1 - (Stopped|Crashed)/.test(sb.run(['agent', 'list']).stdout));
    expect(sb.run(['agent', 'restart', 'c1', '--fresh'], { env }).code).toBe(0);
    await waitFor(() => sb.run(['agent', 'capture', 'c1']).stdout.includes('ARGS: --model opus'));
    expect(sb.run(['agent', 'capture', 'c1']).stdout).not.toContain('--continue');
  });

  it("keeps the session's recording and events: logs after a restart still show the run before", async () => {
    const sb = sandbox();
    const cmd = ['bash', '-c', 'echo "run at $(date +%s%N)"; exit 5'];
    expect(sb.run(['agent', 'spawn', '--uuid', 'r1', '--workdir', sb.work, '--', ...cmd]).code).toBe(0);
    await waitFor(() => /exited with code 5/.test(sb.run(['agent', 'list']).stdout));
    expect(sb.run(['agent', 'restart', 'r1']).code).toBe(0);
    await waitFor(() => (sb.run(['agent', 'logs', 'r1']).stdout.match(/^run at \d+$/gm) ?? []).length === 2, 15_000);
    const runs = sb.run(['agent', 'logs', 'r1']).stdout.match(/^run at \d+$/gm)!;
    expect(runs[0]).not.toBe(runs[1]);
    await waitFor(() => /exited with code 5/.test(sb.run(['agent', 'list']).stdout));
    const events = sb.run(['agent', 'events', 'r1', '--json']).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; restart?: boolean; seq: number });
    expect(events.filter((e) => e.type === 'spawned').map((e) => e.restart)).toEqual([false, true]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    // kill forgets it all.
    expect(sb.run(['agent', 'kill', 'r1']).code).toBe(0);
    expect(fs.readdirSync(path.join(sb.home, 'sessions')).includes('r1') ? fs.readdirSync(path.join(sb.home, 'sessions', 'r1')).filter((f) => f.startsWith('recording.') || f === 'events.jsonl') : []).toEqual([]);
  });
});
