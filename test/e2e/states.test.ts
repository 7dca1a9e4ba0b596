import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawClient, socketOf } from '../helpers/raw-client';
import { supervisorLog } from '../helpers/relay-procs';
import { CLI, ROOT, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// What every agent is doing, with evidence: a shell's silent foreground job is working;
// queued tasks go one turn at a time, each with its receipts; agents' own hooks (wired by
// `spawn --hooks` for fake agents that call them as the real ones do) say idle and blocked;
// the user's hooks run on idle, blocked and exit and never hold anything; events are
// followed live and read back.

const sandbox = sandboxPerTest();
const HOOKED = path.join(ROOT, 'test', 'fixtures', 'agents', 'hooked');

type Json = Record<string, unknown>;

function listed(s: Sandbox, id: string): Json {
  const all = JSON.parse(s.run(['agent', 'list', '--json']).stdout) as Json[];
  return all.find((a) => a.id === id)!;
}

/** Waits until the listed agent is in `state`; a timeout says what it was instead. */
async function waitState(s: Sandbox, id: string, state: string, timeoutMs = 20_000): Promise<void> {
  let last: Json | undefined;
  await waitFor(() => (last = listed(s, id)).state === state, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}; ${id} was listed as ${JSON.stringify(last)}; supervisor log:\n${supervisorLog(s, id)}`);
  });
}

function spawnOk(s: Sandbox, id: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, ...args], { env });
  expect(r, r.stderr).toMatchObject({ code: 0 });
}

function tasks(s: Sandbox, id: string): Json[] {
  return JSON.parse(s.run(['agent', 'queue', id, '--list', '--json']).stdout) as Json[];
}

function eventsOf(s: Sandbox, id: string): Json[] {
  return s
    .run(['agent', 'events', id, '--json'])
    .stdout.split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Json);
}

/** `agent events --follow --json`, collecting lines until stopped. */
function follow(s: Sandbox, ids: string[]): { lines: Json[]; child: ChildProcess; stop(): Promise<void> } {
  const child = spawn(CLI, ['agent', 'events', ...ids, '--follow', '--json'], { env: s.env, cwd: s.work, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Json[] = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Json);
      buf = buf.slice(i + 1);
    }
  });
  return {
    lines,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

describe('states', { timeout: 90_000 }, () => {
  it("a shell's silent foreground job is working: wait --idle returns after it, and a task queued meanwhile is typed after it", async () => {
    const s = sandbox();
    spawnOk(s, 'sh1', ['--idle', '1', '--', 'bash', '--norc', '--noprofile']);
    await waitState(s, 'sh1', 'idle');
    expect(s.run(['agent', 'send', 'sh1', 'sleep 3; echo slept', '--enter']).code).toBe(0);
    await waitFor(() => listed(s, 'sh1').stateReason === 'sleep runs in the foreground');
    expect(listed(s, 'sh1')).toMatchObject({ state: 'working', activity: 'working' });
    expect(s.run(['agent', 'queue', 'sh1', 'echo after']).code).toBe(0);
    const w = await s.runAsync(['agent', 'wait', 'sh1', '--idle', '--timeout', '30']);
    expect(w.code).toBe(0);
    const screen = s.run(['agent', 'capture', 'sh1']).stdout;
    expect(screen).toContain('slept');
    // The task came after the job's end, not during its silence.
    await waitFor(() => tasks(s, 'sh1')[0]!.state === 'done', 20_000);
    const cap = s.run(['agent', 'capture', 'sh1']).stdout;
    expect(cap.indexOf('slept')).toBeLessThan(cap.indexOf('echo after'));
  });

  it("a known agent's window title gives its state, spinner glyphs and all (as the supervisor's bundle holds them)", async () => {
    const s = sandbox();
    const bin = path.join(s.dir, 'title-bin');
    fs.mkdirSync(bin);
    // Named `claude`: its titles follow Claude Code's (a braille spinner, then the idle star).
    const script = "printf '\\033]0;\\342\\240\\202 Thinking\\007'; read line; printf '\\033]0;\\342\\234\\263 Claude Code\\007'; exec cat";
    fs.writeFileSync(path.join(bin, 'claude'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    spawnOk(s, 'ti', ['--no-hooks', '--', path.join(bin, 'claude')]);
    await waitFor(() => listed(s, 'ti').stateReason === 'title: \u2802 Thinking', 20_000);
    expect(listed(s, 'ti').state).toBe('working');
    expect(s.run(['agent', 'send', 'ti', 'go', '--enter']).code).toBe(0);
    await waitFor(() => listed(s, 'ti').stateReason === 'title: \u2733 Claude Code', 20_000);
    expect(listed(s, 'ti').state).toBe('idle');
  });

  it('three tasks queued while busy: each done before the next is typed, with receipts, wait --task and capture --task', async () => {
    const s = sandbox();
    spawnOk(s, 'q1', ['--idle', '1', '--', 'bash', '--norc', '--noprofile']);
    await waitState(s, 'q1', 'idle', 20_000);
    // (--key Enter: typed, but not a task of its own; --enter would make it task 1)
    expect(s.run(['agent', 'send', 'q1', 'sleep 2', '--key', 'Enter']).code).toBe(0);
    for (const t of ['sleep 1; echo one', 'echo two', 'sleep 1; echo three']) expect(s.run(['agent', 'queue', 'q1', t]).code).toBe(0);
    const w = s.run(['agent', 'wait', 'q1', '--task', '3', '--timeout', '40'], { timeoutMs: 45_000 });
    expect(w.stdout).toMatch(/^Task 3 done in \d+\.\d s \(idle\)\n$/);
    const list = tasks(s, 'q1');
    expect(list.map((t) => [t.index, t.state, t.doneState])).toEqual([
      [1, 'done', 'idle'],
      [2, 'done', 'idle'],
      [3, 'done', 'idle'],
    ]);
    for (const t of list) {
      const at = ['queuedAt', 'typedAt', 'submittedAt', 'startedAt', 'doneAt'].map((k) => Date.parse(t[k] as string));
      expect(at).toEqual([...at].sort((a, b) => a - b));
    }
    // One turn at a time: the next typed only after the previous was done.
    for (let i = 1; i < 3; i++) expect(Date.parse(list[i]!.typedAt as string)).toBeGreaterThanOrEqual(Date.parse(list[i - 1]!.doneAt as string));
    const one = s.run(['agent', 'capture', 'q1', '--task', '1']);
    expect(one.stdout).toMatch(/sleep 1; echo one\none\n$/);
    expect(s.run(['agent', 'capture', 'q1', '--task', '2']).stdout).toMatch(/echo two\ntwo\n$/);
    const human = s.run(['agent', 'queue', 'q1', '--list']).stdout;
    expect(human).toMatch(/^ {2}1\. \[done \d\d:\d\d:\d\d \(idle, \d+\.\d s\)\] sleep 1; echo one$/m);
    // The receipts as events, in order.
    const steps = eventsOf(s, 'q1').filter((e) => e.type === 'task' && e.task === 2).map((e) => e.state);
    expect(steps).toEqual(['typed', 'submitted', 'started', 'done']);
    expect(s.run(['agent', 'wait', 'q1', '--task', '9']).stderr).toMatch(/no task 9/);
  });

  it("Claude-style hooks (spawn --hooks): blocked with what it asks, idle on Stop though its screen keeps changing; events followed live and read back", async () => {
    const s = sandbox();
    const env = { PATH: `${HOOKED}:${process.env.PATH}` };
    const f = follow(s, []);
    spawnOk(s, 'c1', ['--idle', '1', '--hooks', '--', 'claude', '--model', 'x'], env);
    await waitFor(() => s.run(['agent', 'capture', 'c1']).stdout.includes('ARGS: --model x'));
    // The record keeps the command as given: the wiring is per run.
    expect(s.readSessions().c1!.agent_command).toEqual(['claude', '--model', 'x']);
    expect(s.run(['agent', 'send', 'c1', 'hello', '--enter']).code).toBe(0);
    await waitState(s, 'c1', 'idle');
    expect(listed(s, 'c1').stateReason).toBe('hook: Stop');
    // Its clock keeps printing, yet it stays idle: the hook said so.
    await new Promise((r) => setTimeout(r, 1500));
    expect(listed(s, 'c1')).toMatchObject({ state: 'idle', stateReason: 'hook: Stop' });
    expect(s.run(['agent', 'send', 'c1', 'ask it', '--enter']).code).toBe(0);
    const blocked = s.run(['agent', 'wait', 'c1', '--blocked', '--timeout', '10']);
    expect(blocked).toMatchObject({ code: 0, stdout: 'Agent session c1 is blocked\n' });
    expect(listed(s, 'c1').stateReason).toBe('hook: PermissionRequest: approve Bash: rm -rf build');
    expect(s.run(['agent', 'list']).stdout).toContain('[blocked: hook: PermissionRequest: approve Bash: rm -rf build');
    expect(s.run(['agent', 'send', 'c1', 'y', '--enter']).code).toBe(0);
    await waitState(s, 'c1', 'idle');
    expect(s.run(['agent', 'kill', 'c1']).code).toBe(0);
    await waitFor(() => f.lines.filter((e) => e.id === 'c1' && e.type === 'state' && e.state === 'idle').length === 2, 15_000);
    await f.stop();
    const states = f.lines.filter((e) => e.type === 'state').map((e) => e.state);
    // (then exited, when the follower saw the kill before it stopped)
    expect(states.slice(0, 6)).toEqual(['working', 'idle', 'working', 'blocked', 'working', 'idle']);
    expect(f.lines.find((e) => e.type === 'notification')).toMatchObject({ id: 'c1', text: 'approve Bash: rm -rf build', source: 'hook: PermissionRequest' });
    expect(f.lines[0]).toMatchObject({ id: 'c1', seq: 1, type: 'spawned', command: ['claude', '--model', 'x'] });
    const seqs = f.lines.map((e) => e.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('events are read back after the end, and a follower sees a session that appears later', async () => {
    const s = sandbox();
    const f = follow(s, []);
    await new Promise((r) => setTimeout(r, 500));
    spawnOk(s, 'e1', ['--idle', '1', '--', 'bash', '--norc', '--noprofile', '-c', 'echo hi; sleep 1.5; exit 3']);
    await waitFor(() => f.lines.some((e) => e.type === 'exited'), 20_000);
    await f.stop();
    expect(f.lines.at(-1)).toMatchObject({ id: 'e1', type: 'exited', code: 3, signal: null, reason: 'exited with code 3' });
    const back = eventsOf(s, 'e1');
    expect(back).toEqual(f.lines);
    const text = s.run(['agent', 'events', 'e1']).stdout.split('\n');
    expect(text[0]).toMatch(/^\d\d:\d\d:\d\d e1 {2}spawned: bash --norc --noprofile -c echo hi; sleep 1.5; exit 3 in /);
  });

  it("Codex-style notify (argv JSON): idle with the turn's end, its last words to the hooks", async () => {
    const s = sandbox();
    const env = { PATH: `${HOOKED}:${process.env.PATH}` };
    const log = path.join(s.dir, 'hooks.log');
    spawnOk(s, 'x1', ['--idle', '5', '--hooks', '--on-idle', `echo "$SYMPOSIUM_ID $SYMPOSIUM_STATE $SYMPOSIUM_NOTIFICATION" >> ${log}`, '--', 'codex'], env);
    await waitFor(() => s.run(['agent', 'capture', 'x1']).stdout.includes('ARGS: with notify --no-daemon'));
    expect(s.run(['agent', 'send', 'x1', 'fix it', '--enter']).code).toBe(0);
    // Idle long before the 5 s of quiet: its notify said so.
    await waitFor(() => listed(s, 'x1').stateReason === 'hook: agent-turn-complete', 4000);
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('x1 idle answered fix it'));
  });

  it("the user's hooks run on blocked, idle and exit with the facts in their environment; one that hangs holds nothing and is killed at the end", async () => {
    const s = sandbox();
    const log = path.join(s.dir, 'hooks.log');
    spawnOk(s, 'u1', [
      '--idle',
      '1',
      '--on-idle',
      `echo "idle $SYMPOSIUM_ID $SYMPOSIUM_REASON" >> ${log}`,
      '--on-blocked',
      `echo "blocked $SYMPOSIUM_NOTIFICATION" >> ${log}; exec sleep 1000`,
      '--on-exit',
      `echo "exit $SYMPOSIUM_EXIT_CODE" >> ${log}`,
      '--',
      'bash',
      '--norc',
      '--noprofile',
    ]);
    // On a timeout: what the hooks wrote and what the supervisor logged.
    const hooksLog = (pred: (text: string) => boolean, timeoutMs = 10_000) =>
      waitFor(() => fs.existsSync(log) && pred(fs.readFileSync(log, 'utf8')), timeoutMs).catch((err: Error) => {
        const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '(none)';
        throw new Error(`${err.message}; listed as ${JSON.stringify(listed(s, 'u1'))}; hooks.log:\n${text}\nevents:\n${s.run(['agent', 'events', 'u1']).stdout}\nsupervisor log:\n${supervisorLog(s, 'u1')}`);
      });
    const sock = socketOf(s.runtime, 'u1');
    const viewer = await RawClient.hello(sock, { mode: 'attach', readOnly: true, cols: 80, rows: 24 });
    await hooksLog((t) => t.includes('idle u1 quiet for 1 s'), 20_000);
    // An OSC 9 notification: blocked, and it reaches the viewer's terminal as it was sent.
    expect(s.run(['agent', 'send', 'u1', "printf '\\033]9;need input\\007'; read x", '--enter']).code).toBe(0);
    await waitState(s, 'u1', 'blocked');
    expect(listed(s, 'u1').stateReason).toBe('notification: need input');
    await viewer.next((m) => m.t === 'output' && Buffer.from(m.data as Uint8Array).toString('latin1').includes('\x1b]9;need input\x07'));
    viewer.destroy();
    await hooksLog((t) => t.includes('blocked need input'));
    // The blocked hook hangs: the agent goes on, and the idle hook runs again.
    expect(s.run(['agent', 'send', 'u1', 'y', '--enter']).code).toBe(0);
    await hooksLog((t) => t.split('\n').filter((l) => l.startsWith('idle')).length === 2);
    expect(s.run(['agent', 'send', 'u1', 'exit 3', '--enter']).code).toBe(0);
    await hooksLog((t) => t.includes('exit 3'));
    // The supervisor ends, and the hanging hook with it.
    await waitFor(() => s.processes().length === 0, 10_000);
    expect(supervisorLog(s, 'u1')).toMatch(/hook\(s\) still ran at the end: killed/);
  });

  it("Claude Code's state probe is answered before its DA1 sentinel, and its OSC 7501 state is taken", async () => {
    const s = sandbox();
    spawnOk(s, 'p1', ['--idle', '5', '--', 'node', path.join(ROOT, 'test', 'fixtures', 'agents', 'state-probe.js')]);
    const answers = await waitFor(() => /ANSWERS: (".*")/.exec(s.run(['agent', 'capture', 'p1']).stdout)?.[1], 10_000);
    const got = JSON.parse(answers) as string;
    expect(got.startsWith('\x1b]7501;?')).toBe(true);
    expect(got.indexOf('\x1b]7501;?')).toBeLessThan(got.indexOf('\x1b[?'));
    expect(s.run(['agent', 'send', 'p1', '--key', 'Enter']).code).toBe(0);
    await waitState(s, 'p1', 'blocked');
    expect(listed(s, 'p1').stateReason).toBe('OSC 7501: blocked: approve rm');
  });

  it('text sent with --enter is a task too: its number, receipts, wait --task and capture --task; a queued task waits for its turn', async () => {
    const s = sandbox();
    spawnOk(s, 's1', ['--idle', '1', '--', 'bash', '--norc', '--noprofile']);
    await waitState(s, 's1', 'idle', 20_000);
    const sent = s.run(['agent', 'send', 's1', 'sleep 2; echo sent-one', '--enter', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    const task = (JSON.parse(sent.stdout) as { task: Json }).task;
    expect(task).toMatchObject({ index: 1, state: 'submitted', sent: true, text: 'sleep 2; echo sent-one' });
    expect(s.run(['agent', 'queue', 's1', 'echo queued-two']).stdout).toBe('Task 2 queued for agent session s1\n');
    expect(s.run(['agent', 'wait', 's1', '--task', '2', '--timeout', '30'], { timeoutMs: 35_000 }).code).toBe(0);
    const list = tasks(s, 's1');
    expect(list.map((t) => [t.index, t.state, t.sent])).toEqual([
      [1, 'done', true],
      [2, 'done', false],
    ]);
    expect(Date.parse(list[1]!.typedAt as string)).toBeGreaterThanOrEqual(Date.parse(list[0]!.doneAt as string));
    expect(s.run(['agent', 'capture', 's1', '--task', '1']).stdout).toMatch(/sleep 2; echo sent-one\nsent-one\n$/);
    // Keys alone, or text without Enter, are not tasks.
    expect(JSON.parse(s.run(['agent', 'send', 's1', 'partial', '--json']).stdout)).toEqual({ task: null });
    expect(s.run(['agent', 'queue', 's1', '--list']).stdout).toMatch(/^ {2}1\. \[done .*, sent\] sleep 2; echo sent-one$/m);
  });
});
