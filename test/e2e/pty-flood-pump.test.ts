import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OuterTerm } from '../../bench/outer';
import { alive, nativeChild, rssKb, spawnAgent, supervisorLog } from '../helpers/relay-procs';
import { CLI, Sandbox, waitFor } from '../helpers/sandbox';

// The flood pump (native/relay.c in pump mode, src/supervisor/flood-pump.ts): during a
// flood the pty master is read by a small C process that hands the supervisor large
// batches. Checked where it matters: every byte reaches the mirror in order, the agent
// waits when the supervisor does, and the supervisor carries on when the pump dies.

let sb: Sandbox;
const terms: OuterTerm[] = [];
afterEach(() => {
  for (const t of terms.splice(0)) t.killNow();
  sb?.dispose();
});

const spawn = (id: string, argv: string[], env: NodeJS.ProcessEnv = {}): number => spawnAgent(sb, id, argv, env);

const LINE = (i: number) => `pump line ${String(i).padStart(7, '0')} `.padEnd(64, '.');

/** A file of `n` numbered lines in the sandbox's workdir. */
function floodFile(n: number): void {
  const lines = Array.from({ length: n }, (_, i) => LINE(i + 1));
  fs.writeFileSync(path.join(sb.work, 'flood.txt'), `${lines.join('\n')}\n`);
}

/** The last `count` flood lines of the mirror's history are the file's last ones, in order. */
function expectTailInOrder(id: string, n: number, count = 4000): void {
  const lines = sb.run(['agent', 'capture', id, '--scrollback', '--lines', String(count + 200)]).stdout.split('\n');
  const numbers = lines.filter((l) => l.startsWith('pump line ')).map((l) => Number(l.slice(10, 17)));
  expect(numbers.slice(-count)).toEqual(Array.from({ length: count }, (_, i) => n - count + 1 + i));
}

/** The supervisor's log once it has logged the agent's end (after the exit is recorded). */
function endedLog(id: string): Promise<string> {
  return waitFor(() => {
    const log = supervisorLog(sb, id);
    return /agent ended/.test(log) ? log : null;
  });
}

const PROMPT = /bash-[\d.]+[$#] ?$/m;

describe('flood pump', { timeout: 90_000 }, () => {
  it('reads a flood with nothing attached: every byte reaches the mirror, in order, and the pump ends with the agent', async () => {
    sb = new Sandbox();
    const n = 500_000; // 32 MB
    floodFile(n);
    const sup = spawn('p1', ['sh', '-c', 'sleep 0.5; cat flood.txt; echo FLOOD-END']);
    const pump = await waitFor(() => nativeChild(sup, 'pump'), 20_000, 5);
    expect(sb.run(['agent', 'wait', 'p1', '--exit', '--timeout', '60'])).toMatchObject({ code: 0 });
    await waitFor(() => !alive(pump));
    const log = await endedLog('p1');
    expect(log).toMatch(/flood pump started/);
    // The last pump read the pty to its end, then gave it back for the supervisor to see the
    // end. (On a loaded machine a pump may find the output calm and stop before it, and
    // another start later: each says what it carried.)
    const runs = [...log.matchAll(/flood pump ended \(([a-z-]+)\) after (\d+) bytes/g)];
    expect(runs.at(-1)?.[1]).toBe('agent-eof');
    expect(runs.map((r) => r[1]).every((why) => why === 'stopped' || why === 'agent-eof')).toBe(true);
    const carried = runs.reduce((sum, r) => sum + Number(r[2]), 0);
    // Every byte of output counted once: the file's lines and the last one, with CR LF.
    const total = Number(/agent ended .* after (\d+) bytes of output/.exec(log)?.[1]);
    expect(total).toBe(n * (64 + 2) + 'FLOOD-END\r\n'.length);
    expect(carried).toBeGreaterThan(0);
    expect(carried).toBeLessThanOrEqual(total);
    expectTailInOrder('p1', n);
    expect(sb.run(['agent', 'capture', 'p1']).stdout).toMatch(/^FLOOD-END$/m);
  });

  it('steps in for the key relay during a flood, stops once calm, and the relay comes back', async () => {
    sb = new Sandbox();
    const n = 300_000;
    floodFile(n);
    const sup = spawn('p2', ['bash', '--norc', '--noprofile', '-i']);
    // A terminal that keeps up (no emulator in this process): the relay steps aside for the flood.
    const t = new OuterTerm(CLI, ['agent', 'attach', 'p2'], { cols: 80, rows: 24, env: sb.env, cwd: sb.work });
    terms.push(t);
    await t.waitText('bash-', 10_000);
    const relay = await waitFor(() => nativeChild(sup, 'relay'), 15_000);
    const from = t.mark;
    t.write('cat flood.txt; echo "done $((3 * 3))"\r');
    const pump = await waitFor(() => nativeChild(sup, 'pump'), 20_000, 5);
    await t.waitText('done 9\n', 60_000, from);
    await waitFor(() => !alive(pump), 5000);
    // The pump's process may be gone before the supervisor has handled its end: wait for the line.
    const ended = await waitFor(() => /flood pump ended .*/.exec(supervisorLog(sb, 'p2'))?.[0], 15_000);
    expect(ended).toMatch(/flood pump ended \(stopped\)/);
    const back = await waitFor(() => nativeChild(sup, 'relay'), 15_000);
    expect(alive(relay)).toBe(false);
    // Keys and echo through the relay again.
    const later = t.mark;
    t.write('echo "after $((2 * 8))"\r');
    await t.waitText('after 16\n', 10_000, later);
    expect(nativeChild(sup, 'relay')).toBe(back);
    expectTailInOrder('p2', n);
  });

  it('a supervisor that stops reading holds the agent through the pump, with bounded memory, and loses nothing', async () => {
    sb = new Sandbox();
    const n = 600_000; // 38 MB: more than the pump and the sockets may hold
    floodFile(n);
    const sup = spawn('p3', ['bash', '--norc', '--noprofile', '-i']);
    await waitFor(() => PROMPT.test(sb.run(['agent', 'capture', 'p3']).stdout));
    expect(sb.run(['agent', 'send', 'p3', 'cat flood.txt; echo "over $((4 * 4))"', '--enter']).code).toBe(0);
    const pump = await waitFor(() => nativeChild(sup, 'pump'), 20_000, 2);
    process.kill(sup, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 700));
      // At most its queue for the supervisor (1 MiB) beyond its own size.
      expect(rssKb(pump)).toBeLessThan(8 * 1024);
      expect(alive(pump)).toBe(true);
    } finally {
      process.kill(sup, 'SIGCONT');
    }
    await waitFor(() => /^over 16$/m.test(sb.run(['agent', 'capture', 'p3']).stdout), 60_000);
    expectTailInOrder('p3', n);
  });

  it('a pump killed with SIGKILL: the supervisor reads on itself, says so, and the session carries on', async () => {
    sb = new Sandbox();
    const sup = spawn('p4', ['bash', '--norc', '--noprofile', '-i']);
    await waitFor(() => PROMPT.test(sb.run(['agent', 'capture', 'p4']).stdout));
    // Long enough to outlive the kill: ~100 MB.
    expect(sb.run(['agent', 'send', 'p4', 'yes "a flood to outlive its pump .........................." | head -n 2000000; echo "end $((5 * 5))"', '--enter']).code).toBe(0);
    const pump = await waitFor(() => nativeChild(sup, 'pump'), 20_000, 2);
    process.kill(pump, 'SIGKILL');
    await waitFor(() => /flood pump ended \(crashed, signal SIGKILL\)/.test(supervisorLog(sb, 'p4')));
    // What the pump had read and not yet handed over is gone with it (as with a killed
    // tmux server); the stream goes on from there, through the supervisor's own reads.
    await waitFor(() => /^end 25$/m.test(sb.run(['agent', 'capture', 'p4']).stdout), 60_000);
    expect(sb.run(['agent', 'list']).stdout).toContain('p4 - Running');
    expect(sb.run(['agent', 'send', 'p4', 'echo "alive $((6 * 7))"', '--enter']).code).toBe(0);
    await waitFor(() => /^alive 42$/m.test(sb.run(['agent', 'capture', 'p4']).stdout));
  });

  it('SYMPOSIUM_NATIVE_RELAY=0 at spawn: no pump; the supervisor reads the flood itself, every byte in order', async () => {
    sb = new Sandbox();
    const n = 200_000;
    floodFile(n);
    spawn('p5', ['sh', '-c', 'sleep 0.3; cat flood.txt; echo FLOOD-END'], { SYMPOSIUM_NATIVE_RELAY: '0' });
    expect(sb.run(['agent', 'wait', 'p5', '--exit', '--timeout', '60'])).toMatchObject({ code: 0 });
    // The pump says when it starts (checked in the test above).
    const log = await endedLog('p5');
    expect(log).not.toMatch(/flood pump/);
    expect(Number(/agent ended .* after (\d+) bytes of output/.exec(log)?.[1])).toBe(n * (64 + 2) + 'FLOOD-END\r\n'.length);
    expectTailInOrder('p5', n);
  });
});
