import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OuterTerm } from '../../bench/outer';
import { PtyTerminal } from '../helpers/pty-terminal';
import { alive, nativeChild, openFiles, rssKb, spawnAgent, supervisorLog as logOf } from '../helpers/relay-procs';
import { CLI, ROOT, Sandbox, waitFor } from '../helpers/sandbox';

// The native key relay (native/relay.c, src/supervisor/fast-relay.ts, relay-policy.ts):
// while a handed-over terminal is calm, a small C process carries its keys and the echo.
// Checked from /proc (which process holds the terminal and the pty master) and from what
// the user sees; every path that hands control back to the supervisor is exercised.

const BINARY = path.join(ROOT, 'dist', 'symposium-relay');

let sb: Sandbox;
const outers: PtyTerminal[] = [];
const lean: OuterTerm[] = [];
afterEach(() => {
  for (const o of outers.splice(0)) o.kill();
  for (const o of lean.splice(0)) o.killNow();
  sb?.dispose();
});

const spawn = (id: string, argv: string[], env: NodeJS.ProcessEnv = {}): number => spawnAgent(sb, id, argv, env);

function attach(id: string): PtyTerminal {
  const t = new PtyTerminal([CLI, 'agent', 'attach', id], { cols: 80, rows: 24, env: sb.env, cwd: sb.work });
  outers.push(t);
  return t;
}

/** The supervisor's key relay (not its flood pump), if one runs. */
function relayOf(sup: number): number | null {
  return nativeChild(sup, 'relay');
}

function supervisorLog(id: string): string {
  return logOf(sb, id);
}

const PROMPT = /bash-[\d.]+[$#] ?$/m;

/** A new sandbox with bash attached in a terminal of the test's, once its relay runs. */
async function bashWithRelay(id: string): Promise<{ sup: number; t: PtyTerminal; relay: number }> {
  sb = new Sandbox();
  const sup = spawn(id, ['bash', '--norc', '--noprofile', '-i']);
  const t = attach(id);
  await t.waitText(PROMPT);
  const relay = await waitFor(() => relayOf(sup));
  return { sup, t, relay };
}

describe('native key relay', { timeout: 90_000 }, () => {
  it('is built (node-pty needs a C compiler too, so one is there)', () => {
    expect(fs.existsSync(BINARY), `${BINARY} is missing: npm run build`).toBe(true);
  });

  it('carries keys and echo while calm, hands escape sequences and the detach key to the supervisor, and is gone after detach', async () => {
    sb = new Sandbox();
    const sup = spawn('n1', ['bash', '--norc', '--noprofile', '-i']);
    const t = attach('n1');
    await t.waitText(PROMPT);
    const tty = await waitFor(() => {
      const p = fs.readlinkSync(`/proc/${t.pid}/fd/0`);
      return p.startsWith('/dev/pts/') ? p : null;
    });
    const relay = await waitFor(() => relayOf(sup));
    expect(openFiles(relay)).toContain(tty);
    expect(openFiles(relay)).toContain('/dev/ptmx');
    t.write('echo "relayed $((6 * 7))"\r');
    await t.waitText(/^relayed 42$/m);
    // The supervisor mirrors what the relay carried.
    await waitFor(() => sb.run(['agent', 'capture', 'n1']).stdout.includes('relayed 42'));
    // Arrow keys are escape sequences: they go the supervisor's way, then keys go direct again.
    t.write('echo abc');
    await t.waitText(/echo abc$/m);
    t.write('\x1b[D\x1b[D');
    await new Promise((r) => setTimeout(r, 100));
    t.write('X\r');
    await t.waitText(/^aXbc$/m);
    t.write('echo "still $((1 + 1))"\r');
    await t.waitText(/^still 2$/m);
    expect(relayOf(sup)).toBe(relay);
    t.write('\x1c');
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('[detached from n1]');
    await waitFor(() => !alive(relay));
    expect(openFiles(sup)).not.toContain(tty);
    // The agent carries on, mirrored by the supervisor's own reads again.
    expect(sb.run(['agent', 'send', 'n1', 'echo after-$((2 * 5))', '--enter']).code).toBe(0);
    await waitFor(() => sb.run(['agent', 'capture', 'n1']).stdout.includes('after-10'));
  });

  it('serves one viewer at a time: the others see its typing, type the slow way, and get the relay when it leaves', async () => {
    const { sup, t: a, relay: relayA } = await bashWithRelay('m1');
    const ttyA = fs.readlinkSync(`/proc/${a.pid}/fd/0`);
    expect(openFiles(relayA)).toContain(ttyA);
    const b = attach('m1');
    await b.waitText(PROMPT);
    const ttyB = await waitFor(() => {
      const p = fs.readlinkSync(`/proc/${b.pid}/fd/0`);
      return p.startsWith('/dev/pts/') ? p : null;
    });
    await waitFor(() => openFiles(sup).includes(ttyB));
    // A types through the relay; B sees it through the supervisor.
    a.write('echo "from a $((1 + 2))"\r');
    await a.waitText(/^from a 3$/m);
    await b.waitText(/^from a 3$/m);
    // B types the slow way; A sees the echo through the relay.
    b.write('echo "from b $((2 + 2))"\r');
    await b.waitText(/^from b 4$/m);
    await a.waitText(/^from b 4$/m);
    // A script's keys go in beside the relay's, and everyone sees them.
    expect(sb.run(['agent', 'send', 'm1', 'echo "sent $((3 + 3))"', '--enter']).code).toBe(0);
    await a.waitText(/^sent 6$/m);
    await b.waitText(/^sent 6$/m);
    expect(relayOf(sup)).toBe(relayA);
    expect(openFiles(relayA)).not.toContain(ttyB);
    // A leaves: B gets a relay of its own.
    a.write('\x1c');
    expect(await a.exited).toBe(0);
    await waitFor(() => !alive(relayA));
    const relayB = await waitFor(() => relayOf(sup)).catch((err: Error) => {
      throw new Error(`${err.message}; supervisor log:\n${supervisorLog('m1')}`);
    });
    await waitFor(() => openFiles(relayB).includes(ttyB));
    b.write('echo "b alone $((4 + 4))"\r');
    await b.waitText(/^b alone 8$/m);
    b.write('\x1c');
    expect(await b.exited).toBe(0);
    await waitFor(() => !alive(relayB));
  });

  it('steps aside for a flood and comes back once calm; the screen ends right', async () => {
    const { sup, t, relay: first } = await bashWithRelay('f1');
    t.write('seq 1 2000000; echo "flood $((3 * 3)) done"\r');
    await t.waitText(/^flood 9 done$/m, 60_000);
    // 15 MB at seq's speed: the mirror floods, or the terminal falls behind; either way
    // the supervisor takes over (and redraws), then a new relay starts once calm.
    expect(supervisorLog('f1')).toMatch(/native relay for viewer \d+ ended \((stopped|full)\)/);
    const second = await waitFor(() => {
      const r = relayOf(sup);
      return r !== null && r !== first ? r : null;
    }, 10_000);
    await waitFor(() => !alive(first));
    expect(t.text()).toMatch(/^2000000$/m);
    t.write('echo "calm $((2 * 4))"\r');
    await t.waitText(/^calm 8$/m);
    await waitFor(() => sb.run(['agent', 'capture', 'f1']).stdout.includes('calm 8'));
    expect(sb.run(['agent', 'capture', 'f1', '--scrollback']).stdout).toMatch(/^1999999\n2000000$/m);
    t.write('\x1c');
    expect(await t.exited).toBe(0);
    await waitFor(() => !alive(second));
  });

  it('floods that stop the relay mid-stream lose no frame of it', async () => {
    sb = new Sandbox();
    const sup = spawn('b1', ['bash', '--norc', '--noprofile', '-i']);
    // A terminal that reads as fast as a real one (no emulator in this process): the relay
    // then stops for the mirror's flood, not because the terminal fell behind.
    const t = new OuterTerm(CLI, ['agent', 'attach', 'b1'], { cols: 80, rows: 24, env: sb.env, cwd: sb.work });
    lean.push(t);
    await t.waitText('bash-', 10_000);
    const n = 200_000;
    const lines = Array.from({ length: n }, (_, i) => `flood line ${String(i + 1).padStart(6, '0')} `.padEnd(70, '.'));
    fs.writeFileSync(path.join(sb.work, 'flood.txt'), `${lines.join('\n')}\n`);
    for (let round = 1; round <= 3; round++) {
      await waitFor(() => relayOf(sup), 15_000);
      const from = t.mark;
      t.write(`cat flood.txt; echo "round $((${round} * 11))"\r`);
      await t.waitText(`round ${round * 11}\n`, 60_000, from);
      await waitFor(() => sb.run(['agent', 'capture', 'b1']).stdout.includes(`round ${round * 11}`));
      const tail = sb.run(['agent', 'capture', 'b1', '--scrollback', '--lines', '5000']).stdout.split('\n').filter((l) => l.startsWith('flood line '));
      expect(tail.slice(-4000).map((l) => Number(l.slice(11, 17)))).toEqual(Array.from({ length: 4000 }, (_, i) => n - 3999 + i));
    }
    // Each flood stopped a relay: as asked, or because the terminal fell behind. A relay
    // that exited as asked while the supervisor, still reading its frames, asked again
    // (EPIPE) ended "crashed": Node had thrown away the frames not yet read (2-4 KB).
    const log = supervisorLog('b1');
    expect(log).toMatch(/native relay for viewer \d+ ended \((stopped|full)\)/);
    expect(log).not.toMatch(/crashed|socket error/);
  });

  it('the agent exits while the relay runs: its last output reaches the terminal and the final screen', async () => {
    sb = new Sandbox();
    const sup = spawn('e1', ['bash', '-c', 'read x; for i in $(seq 1 60); do echo "line $i"; done; echo LAST-LINE; exit 3']);
    const t = attach('e1');
    const relay = await waitFor(() => relayOf(sup));
    t.write('\r');
    expect(await t.exited).toBe(0);
    expect(t.text()).toMatch(/^LAST-LINE$/m);
    expect(t.text()).toContain('[e1 exited with code 3]');
    await waitFor(() => !alive(relay));
    // The relay read the pty to its end, then gave it back for the supervisor to see the end.
    expect(supervisorLog('e1')).toMatch(/native relay for viewer \d+ ended \(agent-eof\)/);
    await waitFor(() => sb.run(['agent', 'list']).stdout.includes('Crashed'));
    const screen = sb.run(['agent', 'capture', 'e1']).stdout;
    expect(screen).toMatch(/^line 60$/m);
    expect(screen).toMatch(/^LAST-LINE$/m);
  });

  it('the agent prints 100 KB and exits at once while the relay runs: every line reaches the final screen and the terminal', async () => {
    sb = new Sandbox();
    const sup = spawn('x1', ['bash', '-c', 'read x; seq -f "last words %06.0f .................................." 1 2000; exit 0']);
    const t = attach('x1');
    await waitFor(() => relayOf(sup));
    t.write('\r');
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('[x1 exited with code 0]');
    expect(t.raw).toContain('last words 002000');
    await waitFor(() => sb.run(['agent', 'list']).stdout.includes('Stopped'));
    const lines = sb.run(['agent', 'capture', 'x1', '--scrollback']).stdout.split('\n').filter((l) => l.startsWith('last words'));
    expect(lines.length).toBe(2000);
    expect(lines.every((l, i) => l.startsWith(`last words ${String(i + 1).padStart(6, '0')}`))).toBe(true);
  });

  it('a relay killed with SIGKILL: the supervisor carries on with its own path, tries again later, and gives up after three', async () => {
    const { sup, t, relay } = await bashWithRelay('k1');
    process.kill(relay, 'SIGKILL');
    await waitFor(() => /native relay for viewer \d+ ended \(crashed, signal SIGKILL\)/.test(supervisorLog('k1')));
    t.write('echo "on $((5 + 5))"\r');
    await t.waitText(/^on 10$/m);
    await waitFor(() => sb.run(['agent', 'capture', 'k1']).stdout.includes('on 10'));
    // A second relay after a back-off (1 s), then a third (2 s); a third failure is the last.
    // (A killed relay is not a zombie at once: a new one is one with another pid.)
    const another = (than: number) => () => {
      const r = relayOf(sup);
      return r !== null && r !== than ? r : null;
    };
    const second = await waitFor(another(relay), 5000);
    process.kill(second, 'SIGKILL');
    const third = await waitFor(another(second), 8000);
    process.kill(third, 'SIGKILL');
    await waitFor(() => supervisorLog('k1').includes('native relay failed 3 times'));
    t.write('echo "still $((6 + 6))"\r');
    await t.waitText(/^still 12$/m);
    await new Promise((r) => setTimeout(r, 1500));
    expect(relayOf(sup)).toBeNull();
    t.write('\x1c');
    expect(await t.exited).toBe(0);
  });

  it('the supervisor killed with SIGKILL: the relay exits too, and the terminal is let go', async () => {
    const { sup, t, relay } = await bashWithRelay('s1');
    process.kill(sup, 'SIGKILL');
    await waitFor(() => !alive(relay), 5000);
    // The client notices its supervisor is gone and restores the terminal.
    expect(await t.exited).not.toBe(0);
    expect(sb.run(['agent', 'list']).stdout).toMatch(/s1 - (Crashed|Stopped)/);
    expect(sb.run(['agent', 'kill', 's1']).code).toBe(0);
  });

  it('a supervisor that stops reading holds the agent through the relay, with bounded memory, and loses nothing', async () => {
    const { sup, t, relay } = await bashWithRelay('z1');
    process.kill(sup, 'SIGSTOP');
    try {
      // Keys still reach the agent through the relay; its flood fills what the relay may hold
      // (1 MiB for the supervisor, 256 KiB for a terminal that is behind), then waits.
      t.write('seq 1 400000; echo "flood $((4 * 4)) over"\r');
      await t.waitText(/^\d{4,6}$/m);
      await new Promise((r) => setTimeout(r, 500));
      expect(rssKb(relay)).toBeLessThan(8 * 1024);
      expect(t.text()).not.toMatch(/^flood 16 over$/m); // the agent is held, not finished
    } finally {
      process.kill(sup, 'SIGCONT');
    }
    await t.waitText(/^flood 16 over$/m, 60_000);
    await waitFor(() => /^flood 16 over$/m.test(sb.run(['agent', 'capture', 'z1']).stdout), 20_000);
    // Every line reached the mirror: the scrollback ends with the last numbers, in order.
    const tail = sb.run(['agent', 'capture', 'z1', '--scrollback']).stdout.split('\n');
    const at = tail.indexOf('400000');
    expect(at).toBeGreaterThan(0);
    expect(tail.slice(at - 3, at + 1)).toEqual(['399997', '399998', '399999', '400000']);
    t.write('\x1c');
    expect(await t.exited).toBe(0);
  });

  it('the terminal hangs up while the relay runs: the viewer is gone, the agent carries on', async () => {
    const { sup, t, relay } = await bashWithRelay('u1');
    const tty = fs.readlinkSync(`/proc/${t.pid}/fd/0`);
    t.hangUp();
    // The relay reads EIO (or is stopped first, when the client's hang-up closes the connection).
    await waitFor(() => !alive(relay));
    await waitFor(() => !openFiles(sup).includes(tty));
    expect(sb.run(['agent', 'list']).stdout).toContain('u1 - Running');
    expect(sb.run(['agent', 'send', 'u1', 'echo "alive $((9 * 9))"', '--enter']).code).toBe(0);
    await waitFor(() => sb.run(['agent', 'capture', 'u1']).stdout.includes('alive 81'));
  });

  it('SYMPOSIUM_NATIVE_RELAY=0 at spawn: no relay; keys, echo and detach work the same', async () => {
    sb = new Sandbox();
    const sup = spawn('o1', ['bash', '--norc', '--noprofile', '-i'], { SYMPOSIUM_NATIVE_RELAY: '0' });
    const t = attach('o1');
    await t.waitText(PROMPT);
    t.write('echo "plain $((6 * 7))"\r');
    await t.waitText(/^plain 42$/m);
    await new Promise((r) => setTimeout(r, 600));
    expect(relayOf(sup)).toBeNull();
    t.write('\x1c');
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('[detached from o1]');
  });
});
