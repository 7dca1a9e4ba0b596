import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyTerminal } from '../helpers/pty-terminal';
import { type Mp, RawClient, socketOf } from '../helpers/raw-client';
import { CLI, Sandbox, waitFor } from '../helpers/sandbox';

// The terminal hand-over (protocol.md §8.6): `agent attach` gives its terminal to the
// supervisor, which writes into it and reads the keys itself, as tmux's server does with
// its clients' terminals. Checked from /proc: which process holds the viewer's terminal,
// that the supervisor never makes it its controlling terminal, and that it lets go.

let sb: Sandbox;
const outers: Array<{ kill(): void }> = [];
afterEach(() => {
  for (const o of outers.splice(0)) o.kill();
  sb?.dispose();
});

function spawn(id: string, argv: string[]): number {
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--cols', '80', '--rows', '24', '--', ...argv]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return sb.readSessions()[id]!.supervisor_pid as number;
}

/** Every file the process holds open, as /proc shows them. */
function openFiles(pid: number): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/** The controlling terminal of a process (stat field 7): 0 for none. */
function controllingTty(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4]);
}

function attach(id: string, env: NodeJS.ProcessEnv = {}): PtyTerminal {
  const t = new PtyTerminal([CLI, 'agent', 'attach', id], { cols: 80, rows: 24, env: { ...sb.env, ...env }, cwd: sb.work });
  outers.push(t);
  return t;
}

/** A terminal of the test's own: a pty whose program only sleeps (raw, so keys are not held in a line). */
async function sleepingTerminal(): Promise<{ term: pty.IPty; path: string; dev: number; ino: number; seen: () => string }> {
  const term = pty.spawn('sh', ['-c', 'stty raw -echo; echo ready; exec sleep 300'], { cols: 80, rows: 24, name: 'xterm-256color' });
  outers.push({ kill: () => term.kill('SIGKILL') });
  let seen = '';
  term.onData((d) => (seen += d));
  await waitFor(() => seen.includes('ready'));
  const path = fs.readlinkSync(`/proc/${term.pid}/fd/0`);
  const st = fs.statSync(path);
  return { term, path, dev: st.dev, ino: st.ino, seen: () => seen };
}

describe('terminal hand-over', { timeout: 90_000 }, () => {
  it('attach gives its terminal to the supervisor, never as its controlling terminal, and gets it back on detach', async () => {
    sb = new Sandbox();
    const sup = spawn('h1', ['bash', '--norc', '--noprofile', '-i']);
    const t = attach('h1');
    await t.waitText(/bash-[\d.]+[$#] ?$/m);
    const tty = fs.readlinkSync(`/proc/${t.pid}/fd/0`);
    expect(tty).toMatch(/^\/dev\/pts\/\d+$/);
    await waitFor(() => openFiles(sup).includes(tty));
    expect(controllingTty(sup)).toBe(0);
    // Raw, output processing included (the kernel adds no CR to the agent's lines).
    const modes = spawnSync('stty', ['-a', '-F', tty], { encoding: 'utf8' }).stdout;
    expect(modes).toMatch(/(^|\s)-opost\b/m);
    expect(modes).toMatch(/(^|\s)-icanon\b/m);
    t.write('echo "handed $((6 * 7))"\r');
    await t.waitText(/^handed 42$/m);
    t.write('\x1c');
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('[detached from h1]');
    expect(t.raw.slice(t.raw.lastIndexOf('[detached'))).not.toContain('handed');
    await waitFor(() => !openFiles(sup).includes(tty));
    // The agent never saw the detach key, and carries on.
    expect(sb.run(['agent', 'list']).stdout).toContain('h1 - Running');
  });

  it('SYMPOSIUM_ATTACH_RELAY=1: the client relays instead, with the same screen, typing and detach', async () => {
    sb = new Sandbox();
    const sup = spawn('r1', ['bash', '--norc', '--noprofile', '-i']);
    const t = attach('r1', { SYMPOSIUM_ATTACH_RELAY: '1' });
    await t.waitText(/bash-[\d.]+[$#] ?$/m);
    t.write('echo "relayed $((6 * 7))"\r');
    await t.waitText(/^relayed 42$/m);
    const tty = fs.readlinkSync(`/proc/${t.pid}/fd/0`);
    expect(openFiles(sup)).not.toContain(tty);
    t.write('\x1c');
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('[detached from r1]');
  });

  it('a client killed while the supervisor holds its terminal: the supervisor lets go at once', async () => {
    sb = new Sandbox();
    const sup = spawn('k1', ['cat']);
    const t = attach('k1');
    // Until the child has set up its descriptors, its fd 0 is something else (a socket).
    const tty = await waitFor(() => {
      try {
        const target = fs.readlinkSync(`/proc/${t.pid}/fd/0`);
        return target.startsWith('/dev/pts/') ? target : null;
      } catch {
        return null;
      }
    });
    await waitFor(() => openFiles(sup).includes(tty));
    process.kill(t.pid, 'SIGKILL');
    await waitFor(() => !openFiles(sup).includes(tty));
    expect(sb.run(['agent', 'list']).stdout).toContain('k1 - Running');
  });

  it('a handed-over terminal that stops reading never holds the agent back, and shows the current screen when it reads again', async () => {
    sb = new Sandbox();
    // It floods until told to stop, then stays (the detach is checked once all is quiet).
    spawn('s1', ['bash', '-c', 'i=0; while [ ! -e stop ]; do i=$((i + 1)); printf "line %08d ........................................\\n" $i; done; exec sleep 600']);
    const t = attach('s1');
    await t.waitText(/line \d{8}/);
    const count = (text: string): number => Math.max(0, ...[...text.matchAll(/line (\d{8})/g)].map((m) => Number(m[1])));
    t.pause();
    const before = count(sb.run(['agent', 'capture', 's1']).stdout);
    // The agent goes on while the terminal reads nothing (it is far more than the pty and
    // the supervisor's queue for it could hold).
    await waitFor(() => count(sb.run(['agent', 'capture', 's1']).stdout) > before + 300_000, 90_000);
    const stalledAt = count(t.text());
    const rawAt = t.raw.length;
    // What the supervisor holds for the stalled terminal is counted, and bounded.
    const ctl = await RawClient.hello(socketOf(sb.runtime, 's1'), { mode: 'control', readOnly: true });
    const held = ((await ctl.request('status')).result as { bufferedBytes: number }).bufferedBytes;
    ctl.destroy();
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(2 * 1024 * 1024);
    t.resume();
    // Redrawn with a screen of now, not the lines it missed one by one: what it gets after
    // the stall is what the pty and the 1 MiB queue held, then a screen.
    const now = count(sb.run(['agent', 'capture', 's1']).stdout);
    await waitFor(async () => count(await t.waitText(/line/)) >= now, 30_000);
    expect(now - stalledAt).toBeGreaterThan(300_000);
    expect(t.raw.length - rawAt).toBeLessThan(6_000_000); // the agent printed over 17 MB meanwhile
    // Detached once the flood is over and the terminal has shown its end, so that the
    // detach line is the last thing on it. (This test's own terminal once lost the
    // client's last words to node-pty's destroy at exit; PtyTerminal now holds the slave.)
    fs.writeFileSync(path.join(sb.work, 'stop'), '');
    const last = await waitFor(async () => {
      const a = sb.run(['agent', 'capture', 's1']).stdout;
      await new Promise((r) => setTimeout(r, 200));
      return a === sb.run(['agent', 'capture', 's1']).stdout ? count(a) : null;
    }, 30_000);
    await t.waitText(new RegExp(`line ${String(last).padStart(8, '0')}`), 30_000);
    t.write('\x1c');
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('[detached from s1]');
  });

  it('an attach that cannot reach its supervisor gives the terminal back as it was, output processing included', async () => {
    sb = new Sandbox();
    spawn('z1', ['cat']);
    // The supervisor runs but cannot be reached: the connection fails at once, while the
    // client's `stty -opost` may still be on its way.
    fs.unlinkSync(socketOf(sb.runtime, 'z1'));
    // (The sleep: node-pty could lose what a program writes right before it exits, lessons.md;
    // one CI run lost the whole `stty -a` before PtyTerminal held the slave open.)
    const t = new PtyTerminal(['bash', '-c', `"$0" agent attach z1; echo "[rc=$?]"; stty -a; sleep 0.3`, CLI], { cols: 120, rows: 30, env: sb.env, cwd: sb.work });
    outers.push(t);
    expect(await t.exited).toBe(0);
    const text = t.raw.replace(/\r/g, '');
    expect(text).toContain('Cannot attach to agent session z1');
    expect(text).toContain('[rc=1]');
    expect(text).toMatch(/(^|\s)opost\b/m); // not -opost
    expect(text).toMatch(/(^|\s)icanon\b/m); // cooked again
  });

  it('takes only a pty slave the connecting process itself holds: not one it merely names, not a master, not the agent\'s own; the attach goes on relayed', async () => {
    sb = new Sandbox();
    const sup = spawn('p1', ['bash', '-c', 'read go; seq 1 20000; exec cat']);
    spawn('p2', ['sleep', '600']);
    const sock = socketOf(sb.runtime, 'p1');
    const t = await sleepingTerminal();
    const statOf = (p: string) => {
      const st = fs.statSync(p);
      return { dev: st.dev, ino: st.ino };
    };
    const ttyOf = (pid: number) => fs.readlinkSync(`/proc/${pid}/fd/0`);
    const agentTty = ttyOf(sb.readSessions().p1!.agent_pid as number);
    const otherTty = ttyOf(sb.readSessions().p2!.agent_pid as number);
    // This process holds a pty master (as /dev/ptmx) and, opened by name, the agent's own
    // terminal; it only names the other session's terminal and the test terminal.
    const master = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    const own = fs.openSync(agentTty, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    const masterSt = fs.fstatSync(master);
    const devnull = statOf('/dev/null');
    const refusals: Array<[Record<string, Mp>, RegExp]> = [
      [{ path: '/dev/null', ...devnull }, /^\/dev\/null is not a pseudo-terminal \(device 1:3\)/],
      [{ path: t.path, dev: t.dev, ino: t.ino }, new RegExp(`^the client \\(pid ${process.pid}\\) does not hold ${t.path} open`)],
      [{ path: otherTty, ...statOf(otherTty) }, /does not hold .* open/],
      [{ path: '/dev/ptmx', dev: masterSt.dev, ino: masterSt.ino }, /^\/dev\/ptmx is a pty master/],
      [{ path: agentTty, ...statOf(agentTty) }, /is the agent's own terminal/],
    ];
    for (const readOnly of [false, true]) {
      for (const [terminal, why] of refusals) {
        const c = await RawClient.hello(sock, { cols: 80, rows: 24, readOnly, terminal });
        const session = c.messages.find((m) => m.t === 'welcome')!.session as Record<string, unknown>;
        expect(session.terminal).toBe(false);
        expect(String(session.terminalError)).toMatch(why);
        // Relayed as without a hand-over: a snapshot frame, then output frames.
        expect((await c.next((m) => m.t === 'snapshot' || m.t === 'shown')).t).toBe('snapshot');
        c.socket.destroy();
      }
    }
    // Nothing was taken, and output flows: the supervisor is not spinning on a master
    // (taking /dev/ptmx made it write in a loop that never waited, at full CPU, for good).
    expect(openFiles(sup).filter((f) => f.startsWith('/dev/pts/'))).not.toContain(t.path);
    expect(sb.run(['agent', 'send', 'p1', 'go', '--enter']).code).toBe(0);
    await waitFor(() => sb.run(['agent', 'capture', 'p1']).stdout.includes('20000'));
    const ctl = await RawClient.hello(sock, { mode: 'control' });
    expect((await ctl.request('status')).result).toMatchObject({ id: 'p1', ended: false });
    ctl.destroy();
    fs.closeSync(master);
    fs.closeSync(own);

    // The test terminal, once this process holds it too, is taken: the screen is written
    // into it, keys are read from it.
    const held = fs.openSync(t.path, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    const c = await RawClient.hello(sock, { cols: 80, rows: 24, terminal: { path: t.path, dev: t.dev, ino: t.ino, detachKey: 0x01 } });
    expect((c.messages.find((m) => m.t === 'welcome')!.session as Record<string, unknown>).terminal).toBe(true);
    const shown = await c.next((m) => m.t === 'shown' || m.t === 'snapshot');
    expect(shown).toMatchObject({ t: 'shown', reason: 'attach', cols: 80, rows: 24 });
    await waitFor(() => t.seen().includes('\x1b[2J'));
    t.term.write('typed into the terminal');
    await waitFor(() => t.seen().includes('typed into the terminal')); // cat's echo, written back by the supervisor
    expect(c.messages.some((m) => m.t === 'output')).toBe(false);
    // Its detach key (Ctrl-A here): detached, then the close; the terminal is let go.
    t.term.write('\x01');
    expect(await c.next((m) => m.t === 'detached')).toMatchObject({ reason: 'key' });
    await waitFor(() => c.closed);
    await waitFor(() => !openFiles(sup).includes(t.path));
    expect(controllingTty(sup)).toBe(0);
    fs.closeSync(held);
    const capture = sb.run(['agent', 'capture', 'p1']).stdout;
    expect(capture).toContain('typed into the terminal');
    expect(capture).not.toContain('\x01');
  });
});
