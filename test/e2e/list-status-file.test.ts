import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliViewer, socketOf } from '../helpers/viewers-client';
import { type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// `agent list` reads the status file each live supervisor keeps beside its socket
// (store/live-status.ts) instead of asking each one: the file follows the agent's state,
// its viewers and its exit; a file that is missing, malformed, of another version or of
// another process is not believed (list asks the supervisor); and the file of a
// supervisor killed with SIGKILL does not make a dead session look alive.

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });

type Json = Record<string, unknown>;

function listed(s: Sandbox, id: string): Json {
  const r = s.run(['agent', 'list', '--json']);
  expect(r.stderr).toBe('');
  return (JSON.parse(r.stdout) as Json[]).find((a) => a.id === id)!;
}

function spawnOk(s: Sandbox, id: string, args: string[]): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--cols', '90', '--rows', '25', ...args]);
  expect(r, r.stderr).toMatchObject({ code: 0 });
}

function statusFile(s: Sandbox, id: string): string {
  return socketOf(s, id).replace(/\.sock$/, '.status.json');
}

function readStatus(s: Sandbox, id: string): Json {
  return JSON.parse(fs.readFileSync(statusFile(s, id), 'utf8')) as Json;
}

/** Replaces the file as the supervisor does (a rename): `change` applied to `base` (the file as it is). */
function doctor(s: Sandbox, id: string, change: Json | string, base: Json = readStatus(s, id)): void {
  const file = statusFile(s, id);
  const text = typeof change === 'string' ? change : JSON.stringify({ ...base, ...change });
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

describe('list reads the status files', { timeout: 90_000 }, () => {
  it('follows the state, the viewers and the exit through the file; a wait that saw a state is followed by a list that sees it', async () => {
    const s = sandbox();
    spawnOk(s, 'l1', ['--idle', '1', '--', 'bash', '--norc', '--noprofile']);
    expect(s.run(['agent', 'wait', 'l1', '--state', 'idle', '--timeout', '20'], { timeoutMs: 25_000 }).code).toBe(0);
    // Right after the wait's reply, no polling: the supervisor wrote the file before it answered.
    expect(readStatus(s, 'l1')).toMatchObject({ v: 1, id: 'l1', state: 'idle', viewers: 0, ended: false, cols: 90, rows: 25 });
    expect(listed(s, 'l1')).toMatchObject({ status: 'Running', state: 'idle', viewers: 0, cols: 90, rows: 25, responding: true });

    // What list shows comes from the file, not from a question to the supervisor.
    doctor(s, 'l1', { stateReason: 'said by the file' });
    expect(listed(s, 'l1')).toMatchObject({ state: 'idle', stateReason: 'said by the file' });

    // idle -> working (a silent foreground job), seen by the list right after the wait.
    expect(s.run(['agent', 'send', 'l1', 'sleep 4', '--enter']).code).toBe(0);
    expect(s.run(['agent', 'wait', 'l1', '--state', 'working', '--timeout', '20'], { timeoutMs: 25_000 }).code).toBe(0);
    expect(listed(s, 'l1')).toMatchObject({ state: 'working', activity: 'working' });
    await waitFor(() => listed(s, 'l1').stateReason === 'sleep runs in the foreground', 10_000);

    // A viewer attaches, then leaves: the count follows within the file's interval.
    const v = new CliViewer(s, 'l1', { cols: 90, rows: 25 });
    try {
      await waitFor(() => listed(s, 'l1').viewers === 1, 15_000);
      expect(readStatus(s, 'l1')).toMatchObject({ viewers: 1 });
    } finally {
      v.proc.kill();
    }
    await waitFor(() => listed(s, 'l1').viewers === 0, 15_000);

    // The exit: Stopped with its code, and the file leaves with its supervisor.
    expect(s.run(['agent', 'send', 'l1', 'exit 3', '--enter']).code).toBe(0);
    expect(s.run(['agent', 'wait', 'l1', '--exit', '--timeout', '20'], { timeoutMs: 25_000 }).code).toBe(3);
    expect(listed(s, 'l1')).toMatchObject({ status: 'Crashed', exitCode: 3, state: 'exited' });
    await waitFor(() => !fs.existsSync(statusFile(s, 'l1')), 10_000);
    expect(listed(s, 'l1')).toMatchObject({ status: 'Crashed', exitCode: 3 });
  });

  it('a missing, malformed, foreign or other-version file is not believed: list asks the supervisor', async () => {
    const s = sandbox();
    spawnOk(s, 'm1', ['--idle', '1', '--', 'bash', '--norc', '--noprofile']);
    expect(s.run(['agent', 'wait', 'm1', '--state', 'idle', '--timeout', '20'], { timeoutMs: 25_000 }).code).toBe(0);
    const good = readStatus(s, 'm1');
    const asked = { status: 'Running', state: 'idle', stateReason: 'quiet for 1 s', viewers: 0, cols: 90, rows: 25, responding: true };
    expect(listed(s, 'm1')).toMatchObject(asked);

    const wrong: Array<[string, Json | string]> = [
      ['cut short', JSON.stringify({ ...good, stateReason: 'said by the file' }).slice(0, 60)],
      ['not JSON', 'garbage'],
      ['another version', { v: 2, stateReason: 'said by the file' }],
      ['a field of the wrong type', { viewers: 'many', stateReason: 'said by the file' }],
      // Written by another process that had this pid (its start time differs): not this supervisor's word.
      ['another process', { supervisorStarted: '1', stateReason: 'said by the file' }],
      ['another session', { id: 'other', stateReason: 'said by the file' }],
    ];
    for (const [what, change] of wrong) {
      doctor(s, 'm1', change, good);
      expect(listed(s, 'm1'), what).toMatchObject(asked);
    }
    fs.rmSync(statusFile(s, 'm1'));
    expect(listed(s, 'm1')).toMatchObject(asked);
    // The next change writes it again.
    expect(s.run(['agent', 'send', 'm1', 'sleep 3', '--enter']).code).toBe(0);
    await waitFor(() => fs.existsSync(statusFile(s, 'm1')) && readStatus(s, 'm1').state === 'working', 10_000);
  });

  it('a supervisor killed with SIGKILL: its stale file does not keep the session Running', async () => {
    const s = sandbox();
    spawnOk(s, 'k1', ['--', 'sleep', '600']);
    await waitFor(() => fs.existsSync(statusFile(s, 'k1')), 10_000);
    const sup = s.readSessions().k1!.supervisor_pid as number;
    expect(readStatus(s, 'k1')).toMatchObject({ supervisorPid: sup, ended: false });
    process.kill(sup, 'SIGKILL');
    await waitFor(() => !fs.existsSync(`/proc/${sup}`) || fs.readFileSync(`/proc/${sup}/stat`, 'utf8').includes(') Z '), 10_000);
    // Still there, saying it runs: the pid check makes list look further.
    expect(readStatus(s, 'k1')).toMatchObject({ ended: false });
    const info = listed(s, 'k1');
    expect(info).toMatchObject({ status: 'Crashed', state: 'exited' });
    expect(info.reason).toMatch(/^supervisor died/);
    // kill removes what the dead supervisor left.
    const file = statusFile(s, 'k1');
    expect(s.run(['agent', 'kill', 'k1']).code).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('k1'))).toEqual([]);
  });
});
