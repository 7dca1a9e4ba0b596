import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HINT_MS } from '../../src/attach-hint';
import { PtyTerminal } from '../helpers/pty-terminal';
import { openFiles } from '../helpers/relay-procs';
import { CLI, ROOT, Sandbox, waitFor } from '../helpers/sandbox';

// The attach hint: for the first seconds of an attach the window title names the detach
// key, then the title is the agent's again; the screen is the agent's exactly all along,
// and after a detach the user's own title is back (the title stack is left as found).
// Both ways an attach runs: the terminal handed over to the supervisor (which shows the
// hint) and the client relaying (which shows it itself). And both off switches.

let sb: Sandbox;
const terms: PtyTerminal[] = [];
afterEach(() => {
  for (const t of terms.splice(0)) t.kill();
  sb?.dispose();
});

const USER_TITLE = 'user shell';
const AGENT_TITLE = 'agent title';

function spawnAgent(id: string): number {
  const script = path.join(sb.work, 'agent.sh');
  fs.writeFileSync(script, `printf '\\e]2;${AGENT_TITLE}\\a'\nprintf 'agent ready\\n'\nexec bash --norc --noprofile -i\n`);
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--cols', '80', '--rows', '24', '--', 'bash', script]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const w = sb.run(['agent', 'wait', id, '--text', 'bash-[0-9.]+[$#]', '--timeout', '40'], { timeoutMs: 50_000 });
  expect(w, w.stderr).toMatchObject({ code: 0 });
  return sb.readSessions()[id]!.supervisor_pid as number;
}

/** An attach in a terminal whose title is USER_TITLE; every title it shows is kept, with when. */
function attach(id: string, flags: string[], env: NodeJS.ProcessEnv) {
  const t = new PtyTerminal([CLI, 'agent', 'attach', id, ...flags], { cols: 80, rows: 24, env: { ...sb.env, SYMPOSIUM_ATTACH_HINT: undefined, ...env }, cwd: sb.work });
  terms.push(t);
  t.term.write(`\x1b]2;${USER_TITLE}\x07`); // parsed before anything the attach writes
  const titles: Array<{ title: string; at: number }> = [];
  t.term.onTitleChange((title) => titles.push({ title, at: Date.now() }));
  return { t, titles, title: () => titles.at(-1)?.title ?? USER_TITLE };
}

/** The screen as the agent has it, for the comparison with what the attach shows. */
function agentScreen(id: string): string {
  const r = sb.run(['agent', 'capture', id]);
  expect(r.code).toBe(0);
  return trimmed(r.stdout);
}

/** Lines without their trailing blanks (capture trims them; a prompt's space stays in the terminal's cells). */
function trimmed(text: string): string {
  return text.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
}

async function parsed(t: PtyTerminal): Promise<void> {
  await new Promise<void>((r) => t.term.write('', r));
}

describe('attach hint', { timeout: 90_000 }, () => {
  it('handed over: the supervisor shows the detach key in the title, then the agent’s title; the screen is the agent’s; the native relay steps aside for the restore only', async () => {
    sb = new Sandbox();
    const sup = spawnAgent('h1');
    const { t, titles, title } = attach('h1', [], {});
    await t.waitText(/agent ready/);
    const tty = fs.readlinkSync(`/proc/${t.pid}/fd/0`);
    expect(openFiles(sup)).toContain(tty); // handed over
    await waitFor(async () => (await parsed(t), title() === 'Ctrl-\\ to detach from h1'), 5_000);
    const shownAt = titles.at(-1)!.at;
    expect(trimmed(t.text())).toBe(agentScreen('h1')); // the screen is untouched by it
    // The native relay (when built) drives the terminal while the hint shows: typing is as
    // fast as ever; it steps aside for the restore, which lands between the agent's
    // sequences even though the relay wrote them, and comes back.
    const relayBuilt = fs.existsSync(path.join(ROOT, 'dist', 'symposium-relay'));
    const log = () => fs.readFileSync(path.join(sb.home, 'sessions', 'h1', 'supervisor.log'), 'utf8');
    const relayStarts = () => log().match(/native relay for viewer \d+ started/g)?.length ?? 0;
    // It starts once the terminal is calm (within ms here; a loaded machine may take longer).
    const relayDuringHint = relayBuilt && (await waitFor(() => relayStarts() === 1, 3_000).then(() => true, () => false));
    t.write('printf "\\e[1mduring\\e[0m the hint\\n"\r');
    await t.waitText(/^during the hint$/m);
    await waitFor(async () => (await parsed(t), title() === AGENT_TITLE), HINT_MS + 10_000);
    expect(titles.at(-1)!.at - shownAt).toBeGreaterThanOrEqual(HINT_MS - 500);
    expect(titles.filter((x) => /detach/.test(x.title))).toHaveLength(1);
    t.write('echo "typed $((6 * 7))"\r');
    // The prompt after it may come in a chunk of its own: wait for it too.
    await t.waitText(/^typed 42\n.*[$#] ?$/m);
    expect(trimmed(t.text())).toBe(agentScreen('h1'));
    if (relayDuringHint) {
      expect(log()).toMatch(/native relay for viewer \d+ ended \(stopped\)/);
      await waitFor(() => relayStarts() === 2, 10_000);
      t.write('echo "relayed $((6 * 8))"\r');
      await t.waitText(/^relayed 48\n.*[$#] ?$/m); // and the prompt after it
      expect(trimmed(t.text())).toBe(agentScreen('h1'));
    }
    t.write('\x1c');
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('[detached from h1]');
    expect(title()).toBe(USER_TITLE);
  });

  it('handed over, detached while the hint shows: the user’s title comes back (the title stack is as it was)', async () => {
    sb = new Sandbox();
    spawnAgent('h2');
    const { t, title } = attach('h2', ['--detach-key', 'C-]'], {});
    await t.waitText(/agent ready/);
    await waitFor(async () => (await parsed(t), title() === 'Ctrl-] to detach from h2'), 5_000);
    t.write('\x1d');
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('[detached from h2]');
    expect(title()).toBe(USER_TITLE);
    // Pushed twice (the client's save, the hint), popped twice.
    expect(t.raw.split('\x1b[22;0t').length).toBe(3);
    expect(t.raw.split('\x1b[23;0t').length).toBe(3);
  });

  it('relayed by the client: the same hint, with the chosen key; the title goes back to the agent’s, then the user’s', async () => {
    sb = new Sandbox();
    const sup = spawnAgent('r1');
    const { t, title } = attach('r1', ['--detach-key', 'C-]'], { SYMPOSIUM_ATTACH_RELAY: '1' });
    await t.waitText(/agent ready/);
    expect(openFiles(sup)).not.toContain(fs.readlinkSync(`/proc/${t.pid}/fd/0`)); // relayed
    await waitFor(async () => (await parsed(t), title() === 'Ctrl-] to detach from r1'), 5_000);
    expect(trimmed(t.text())).toBe(agentScreen('r1'));
    // Output while the hint shows does not disturb it, and it ends at a sequence's boundary.
    t.write('printf "\\e[1mbold\\e[0m\\n"\r');
    await t.waitText(/^bold$/m);
    await waitFor(async () => (await parsed(t), title() === AGENT_TITLE), HINT_MS + 10_000);
    expect(trimmed(t.text())).toBe(agentScreen('r1'));
    t.write('\x1d');
    expect(await t.exited).toBe(0);
    expect(t.text()).toContain('[detached from r1]');
    expect(title()).toBe(USER_TITLE);
  });

  it('off with --no-hint (handed over) and with SYMPOSIUM_ATTACH_HINT=0 (relayed)', async () => {
    sb = new Sandbox();
    spawnAgent('o1');
    for (const [flags, env] of [
      [['--no-hint'], {}],
      [[], { SYMPOSIUM_ATTACH_HINT: '0', SYMPOSIUM_ATTACH_RELAY: '1' }],
    ] as const) {
      const { t, titles, title } = attach('o1', [...flags], env);
      await t.waitText(/agent ready/);
      await waitFor(async () => (await parsed(t), title() === AGENT_TITLE), 5_000);
      await new Promise((r) => setTimeout(r, 1000)); // the hint would show right after the replay
      await parsed(t);
      expect(titles.map((x) => x.title).filter((x) => /detach/.test(x))).toEqual([]);
      expect(t.raw.split('\x1b[22;0t').length).toBe(2); // only the client's own save of the user's title
      expect(trimmed(t.text())).toBe(agentScreen('o1'));
      t.write('\x1c');
      expect(await t.exited).toBe(0);
      expect(title()).toBe(USER_TITLE);
    }
  });

  it('--help names the switch', () => {
    sb = new Sandbox();
    const r = sb.run(['agent', 'attach', '--help']);
    expect(r.stdout).toContain('--no-hint');
    expect(r.stdout).toContain('SYMPOSIUM_ATTACH_HINT=0');
  });
});
