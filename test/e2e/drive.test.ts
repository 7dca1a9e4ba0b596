import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, Sandbox, waitFor } from '../helpers/sandbox';

// Issue 6: driving agents with nobody attached — send, queue, capture, wait, activity.
// Real programs in real ptys behind real supervisors.

const AGENTS = path.join(ROOT, 'test', 'fixtures', 'agents');

let sb: Sandbox;
beforeEach(() => {
  sb = new Sandbox();
});
afterEach(() => {
  sb.dispose();
});

function spawn(id: string, cmd: string[], extra: string[] = []): void {
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, ...extra, '--', ...cmd]);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('Agent session spawned successfully\n');
}

function capture(id: string, ...flags: string[]): string {
  const r = sb.run(['agent', 'capture', id, ...flags]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('agent send', () => {
  it('types text and Enter into a shell', async () => {
    spawn('sh1', ['bash', '--norc', '--noprofile', '-i']);
    await waitFor(() => capture('sh1').includes('$') || capture('sh1').includes('#'));
    const r = sb.run(['agent', 'send', 'sh1', 'echo', 'sum=$((40+2))', '--enter']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    await waitFor(() => capture('sh1').includes('sum=42'));
  });

  it('delivers 64 KB of many lines whole and in order through the line discipline (cat)', async () => {
    const out = path.join(sb.work, 'cat-out.txt');
    spawn('cat1', ['bash', '-c', `stty -echo; cat > ${out}`]);
    const lines: string[] = [];
    for (let i = 0; lines.join('\n').length < 64 * 1024; i++) lines.push(`line ${String(i).padStart(5, '0')} ${'abcdefghij'.repeat(5)}`);
    const text = `${lines.join('\n')}\n`;
    expect(text.length).toBeGreaterThanOrEqual(64 * 1024);
    const r = sb.run(['agent', 'send', 'cat1', text]);
    expect(r.code, r.stderr).toBe(0);
    // Ctrl-D ends cat: everything before it must have arrived.
    expect(sb.run(['agent', 'send', 'cat1', '--key', 'C-d']).code).toBe(0);
    await waitFor(() => sb.readSessions().cat1?.status === 'Stopped' || sb.run(['agent', 'list']).stdout.includes('Stopped'), 20_000);
    expect(fs.readFileSync(out, 'utf8')).toBe(text);
  });

  it('sends 64 KB as one bracketed paste when the agent enabled it, and Enter separately', async () => {
    const out = path.join(sb.work, 'paste-out.txt');
    spawn('paste1', ['python3', path.join(AGENTS, 'paste-reader.py'), out]);
    await waitFor(() => capture('paste1').includes('ready>'));
    let text = '';
    for (let i = 0; text.length < 64 * 1024; i++) text += `paste line ${i} \u00e9\u4e2d ${'x'.repeat(40)}\n`;
    const r = sb.run(['agent', 'send', 'paste1', text, '--enter']);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => capture('paste1').includes('ENTER'), 20_000);
    expect(fs.readFileSync(out, 'utf8')).toBe(text);
    expect(capture('paste1')).toContain(`GOT ${Buffer.byteLength(text)} BYTES`);
  });

  it('keeps each send whole: text and Enter of concurrent sends never interleave', async () => {
    const out = path.join(sb.work, 'lines.txt');
    spawn('many1', ['bash', '-c', `stty -echo; cat > ${out}`]);
    const texts = Array.from({ length: 10 }, (_, i) => `send number ${i} ${'word '.repeat(20 + i)}`.trim());
    const results = await Promise.all(texts.map((t) => sb.runAsync(['agent', 'send', 'many1', t, '--enter'])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    sb.run(['agent', 'send', 'many1', '--key', 'C-d']);
    await waitFor(() => sb.run(['agent', 'list']).stdout.includes('Stopped'), 20_000);
    const got = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean);
    expect(got.sort()).toEqual([...texts].sort());
  });

  it('sends named keys: C-c interrupts a running command', async () => {
    spawn('keys1', ['bash', '--norc', '--noprofile', '-i']);
    sb.run(['agent', 'send', 'keys1', 'sleep 100; echo after-sleep', '--enter']);
    await waitFor(() => capture('keys1').includes('sleep 100'));
    expect(sb.run(['agent', 'send', 'keys1', '--key', 'C-c']).code).toBe(0);
    sb.run(['agent', 'send', 'keys1', 'echo interrupted-ok', '--enter']);
    await waitFor(() => /^interrupted-ok$/m.test(capture('keys1')));
    expect(capture('keys1')).not.toContain('\nafter-sleep');
  });

  it('refuses unknown keys before sending anything, and unknown sessions', () => {
    spawn('keys2', ['cat']);
    const bad = sb.run(['agent', 'send', 'keys2', 'hello', '--key', 'NoSuchKey']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: Unknown key "NoSuchKey"/);
    const missing = sb.run(['agent', 'send', 'nope', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error: Agent session nope not found\n');
  });
});

describe('agent queue', () => {
  it('delivers queued tasks once each, whole, in order, only at the prompt', async () => {
    const log = path.join(sb.work, 'agent.log');
    spawn('q1', [path.join(AGENTS, 'fake-agent.sh'), log], ['--idle', '1']);
    const tasks = ['first task: refactor the parser', 'second task: add tests for "quotes" & $vars', 'third task: write the docs'];
    // Queue from separate CLI processes at once, while the agent is busy.
    const results = await Promise.all(tasks.map((t, i) => new Promise<void>((resolve) => setTimeout(resolve, i * 30)).then(() => sb.runAsync(['agent', 'queue', 'q1', t]))));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const listed = sb.run(['agent', 'queue', 'q1', '--list', '--json']);
    const entries = JSON.parse(listed.stdout) as Array<{ index: number; text: string; state: string }>;
    expect(entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(new Set(entries.map((e) => e.text))).toEqual(new Set(tasks));
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length >= 3, 45_000, 200);
    // Give a wrong extra delivery time to show up, then check exactly-once.
    await waitFor(() => capture('q1').trimEnd().endsWith('>'), 10_000);
    const got = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(got).not.toContain('EARLY');
    expect(got).toEqual(entries.map((e) => `GOT ${e.text}`));
    const done = () => JSON.parse(sb.run(['agent', 'queue', 'q1', '--list', '--json']).stdout) as Array<{ state: string; deliveredAt: string }>;
    await waitFor(() => done().every((e) => e.state === 'done'), 10_000);
    expect(done().every((e) => /^\d{4}-\d\d-\d\dT/.test(e.deliveredAt))).toBe(true);
    const human = sb.run(['agent', 'queue', 'q1', '--list']).stdout;
    expect(human).toMatch(/1\. \[done \d\d:\d\d:\d\d \(idle, \d+\.\d s\)\]/);
  }, 90_000);

  it('--clear drops tasks not yet delivered', async () => {
    spawn('q2', ['bash', '-c', 'while true; do echo busy; sleep 0.2; done']);
    expect(sb.run(['agent', 'queue', 'q2', 'never delivered']).code).toBe(0);
    expect(sb.run(['agent', 'queue', 'q2', 'nor this']).code).toBe(0);
    const c = sb.run(['agent', 'queue', 'q2', '--clear']);
    expect(c.stdout).toBe('Cleared 2 queued tasks for agent session q2\n');
    expect(sb.run(['agent', 'queue', 'q2', '--list']).stdout).toBe('No tasks queued for agent session q2\n');
  });

  it('refuses bad usage with a clear error', () => {
    spawn('q3', ['cat']);
    const r = sb.run(['agent', 'queue', 'q3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Give a task TEXT, or --list, or --clear/);
  });
});

describe('agent capture', () => {
  it('shows the screen as text, with colours, with the cursor, before and after exit', async () => {
    const script = 'printf "\\033[31mred\\033[0m plain\\n"; for i in $(seq 1 60); do echo row$i; done; printf "tail   "; read x; exit 5';
    spawn('cap1', ['bash', '-c', script], ['--cols', '80', '--rows', '24']);
    await waitFor(() => capture('cap1').includes('tail'));
    const plain = capture('cap1');
    expect(plain.split('\n')[0]).toBe('row38');
    expect(plain).toMatch(/row60\ntail\n$/); // trailing blanks trimmed
    expect(capture('cap1', '--lines', '2')).toBe('row60\ntail\n');
    const all = capture('cap1', '--scrollback');
    expect(all.startsWith('red plain\nrow1\n')).toBe(true);
    expect(capture('cap1', '--scrollback', '--ansi')).toContain('\x1b[0;31mred\x1b[0m plain');
    const json = JSON.parse(capture('cap1', '--json')) as { cursor: { x: number; y: number }; cols: number; rows: number; final: boolean };
    expect(json).toMatchObject({ cols: 80, rows: 24, cursor: { x: 7, y: 23 }, final: false });

    sb.run(['agent', 'send', 'cap1', '--key', 'Enter']);
    await waitFor(() => sb.run(['agent', 'list']).stdout.includes('Crashed'));
    // After the exit: the final screen kept on disk.
    // The Enter echoed a newline: the final screen is the last one, scrolled by a line.
    expect(capture('cap1')).toBe(`${plain.split('\n').slice(1).join('\n')}`);
    expect(capture('cap1', '--scrollback').startsWith('red plain\nrow1\n')).toBe(true);
    expect(capture('cap1', '--scrollback', '--ansi')).toContain('\x1b[0;31mred\x1b[0m plain');
    const fin = JSON.parse(capture('cap1', '--json')) as { final: boolean; status: string };
    expect(fin).toMatchObject({ final: true, status: 'Crashed' });
  });
});

describe('agent capture into a pipe', () => {
  it('stops quietly when the reader goes away (`capture | head`)', async () => {
    // 400 KB: far more than a pipe holds, so the CLI is still writing when `head` leaves.
    spawn('cap2', ['sh', '-c', "seq -f 'line %05.0f, padded to be a longer line' 1 9000; exec sleep 60"], ['--cols', '80', '--rows', '24']);
    await waitFor(() => capture('cap2').includes('line 09000'));
    const { spawnSync } = await import('node:child_process');
    const cli = path.join(ROOT, 'bin', 'symposium-mcp');
    const r = spawnSync('sh', ['-c', `"${cli}" agent capture cap2 --scrollback | head -n 2`], { env: sb.env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('line 00001, padded to be a longer line\nline 00002, padded to be a longer line\n');
  });
});

describe('agent wait', () => {
  it('--exit returns the agent exit code; --timeout gives 124', async () => {
    spawn('w1', ['bash', '-c', 'sleep 3; exit 7']);
    const t = sb.run(['agent', 'wait', 'w1', '--exit', '--timeout', '0.3']);
    expect(t.code).toBe(124);
    expect(t.stderr).toBe('Timed out after 0.3 s waiting for agent session w1 to exit\n');
    const r = sb.run(['agent', 'wait', 'w1', '--exit', '--timeout', '20']);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe('Agent session w1 exited with code 7\n');
    // Once ended, wait --exit answers at once from the record.
    expect(sb.run(['agent', 'wait', 'w1', '--exit']).code).toBe(7);
  });

  it('--idle waits for quiet output; times out while output continues', async () => {
    spawn('w2', ['bash', '-c', 'for i in $(seq 1 8); do echo tick $i; sleep 0.2; done; read x']);
    const busy = sb.run(['agent', 'wait', 'w2', '--idle', '1', '--timeout', '0.5']);
    expect(busy.code).toBe(124);
    const start = Date.now();
    const r = sb.run(['agent', 'wait', 'w2', '--idle', '0.8', '--timeout', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(capture('w2')).toContain('tick 8');
    expect(Date.now() - start).toBeGreaterThanOrEqual(500);
    const list = JSON.parse(sb.run(['agent', 'list', '--json']).stdout) as Array<{ activity: string; lastOutputAt: string }>;
    expect(list[0]!.lastOutputAt).toMatch(/^\d{4}-/);
  });

  it('--idle and the queue wait for the agent’s first screen: nothing drawn is not idle', async () => {
    // Silent while it starts (as the real agents were for 1-2.6 s), then a prompt; it says
    // EARLY if something was typed before the prompt.
    const slow = 'sleep 2.5; if read -r -t 0; then echo EARLY; fi; printf "prompt> "; read -r l; echo "GOT $l"; sleep 30';
    spawn('s1', ['bash', '-c', slow], ['--idle', '0.5']);
    expect(sb.run(['agent', 'queue', 's1', 'early task']).code).toBe(0);
    // The same under tmux, at the same time.
    const t = sb.run(['agent', 'spawn', '--uuid', 't1', '--backend', 'tmux', '--workdir', sb.work, '--', 'bash', '-c', 'sleep 2.5; echo ready; sleep 30']);
    expect(t.code).toBe(0);
    const [r, rt] = await Promise.all([sb.runAsync(['agent', 'wait', 's1', '--idle', '0.5', '--timeout', '20']), sb.runAsync(['agent', 'wait', 't1', '--idle', '0.5', '--timeout', '20'])]);
    expect(r.code, r.stderr).toBe(0);
    expect(rt.code, rt.stderr).toBe(0);
    expect(capture('s1')).toContain('prompt>');
    expect(capture('t1')).toContain('ready');
    await waitFor(() => capture('s1').includes('GOT early task'), 20_000);
    expect(capture('s1')).not.toContain('EARLY');
  });

  it('--idle returns early on an OSC 133 prompt mark', async () => {
    spawn('w4', ['bash', '-c', 'echo working; sleep 0.3; printf "\\033]133;A\\007$ "; sleep 30'], ['--idle', '20']);
    const r = sb.run(['agent', 'wait', 'w4', '--idle', '--timeout', '10']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('--text waits for a regex on the screen', async () => {
    spawn('w3', ['bash', '-c', 'sleep 0.5; echo "Result: 12 tests passed"; sleep 30']);
    const none = sb.run(['agent', 'wait', 'w3', '--text', 'never-shown', '--timeout', '0.3']);
    expect(none.code).toBe(124);
    const r = sb.run(['agent', 'wait', 'w3', '--text', '\\d+ tests passed', '--timeout', '20']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('12 tests passed\n');
    const bad = sb.run(['agent', 'wait', 'w3', '--text', '(']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: Invalid --text pattern/);
    const two = sb.run(['agent', 'wait', 'w3', '--exit', '--idle']);
    expect(two.code).toBe(1);
  });

  it('--text with a catastrophic pattern neither freezes the agent nor hangs', async () => {
    spawn('w5', ['bash', '-c', `printf '${'a'.repeat(40)}!\\n'; exec cat`]);
    await waitFor(() => capture('w5').includes('a!'));
    // Nested repetition: V8's linear-time engine takes it, so the wait just times out.
    const nested = sb.run(['agent', 'wait', 'w5', '--text', '(a+)+b', '--timeout', '0.5']);
    expect(nested.code, nested.stderr).toBe(124);
    // A backreference needs backtracking: the supervisor gives up after its time limit.
    const t0 = Date.now();
    const backref = sb.run(['agent', 'wait', 'w5', '--text', '(a+)+\\1b', '--timeout', '20']);
    expect(backref.code).toBe(1);
    expect(backref.stderr).toMatch(/^Error: .*took more than 200 ms to match the screen/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // A backreference that matches at once still works.
    const fine = sb.run(['agent', 'wait', 'w5', '--text', '(a)\\1+!', '--timeout', '5']);
    expect(fine.code, fine.stderr).toBe(0);
    // And the agent was never frozen: it still echoes what it is sent.
    expect(sb.run(['agent', 'send', 'w5', 'still-alive', '--enter']).code).toBe(0);
    await waitFor(() => capture('w5').includes('still-alive'));
    // An ended agent's final screen is matched by the CLI, under the same limit.
    sb.run(['agent', 'send', 'w5', '--key', 'C-d']);
    await waitFor(() => sb.run(['agent', 'list']).stdout.includes('Stopped'), 15_000);
    const late = sb.run(['agent', 'wait', 'w5', '--text', '(a+)+\\1b']);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/took more than 200 ms/);
  });
});

describe('agent list activity', () => {
  it('shows working while output flows and idle after the threshold', async () => {
    spawn('act1', ['bash', '-c', 'for i in $(seq 1 100); do echo x$i; sleep 0.1; done; read x'], ['--idle', '1']);
    await waitFor(() => capture('act1').includes('x3'));
    expect(sb.run(['agent', 'list']).stdout).toMatch(/act1 - Running \(symposium-agent-act1\) {2}\[working, last output \d+s ago\]/);
    sb.run(['agent', 'send', 'act1', '--key', 'C-c']);
    await waitFor(() => sb.run(['agent', 'list']).stdout.includes('Stopped') || sb.run(['agent', 'list']).stdout.includes('Crashed'), 15_000);
    spawn('act2', ['bash', '-c', 'echo once; sleep 60'], ['--idle', '1']);
    await waitFor(() => {
      const j = JSON.parse(sb.run(['agent', 'list', '--json']).stdout) as Array<{ id: string; activity: string | null }>;
      return j.find((s) => s.id === 'act2')?.activity === 'idle';
    }, 10_000, 200);
  });
});
