import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyTerminal } from '../helpers/pty-terminal';
import { CLI, Sandbox, waitFor } from '../helpers/sandbox';
import { TmuxView } from '../helpers/tmux-view';

// `agent attach` as a user meets it, in a pane of the sandbox's tmux server: the terminal
// is restored on detach and on exit, the detach key and its double press, the window size
// following the attaching terminal, and the errors and records around an attach.

let sb: Sandbox;
afterEach(() => sb?.dispose());

/**
 * Prints every byte it reads in hex, in raw mode (after `$1`, a shell snippet, runs).
 * One `dd` per byte: bash's own `read -n1` turns ISIG back on, and Ctrl-\\ would be lost.
 */
const HEX_READER = String.raw`
eval "$1"
printf 'reading bytes:\n'
stty raw -echo
while :; do
  b=$(dd bs=1 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
  [ -n "$b" ] && printf '%s ' "$b"
done
`;

function writeScript(name: string, body: string): string {
  const file = path.join(sb.work, name);
  fs.writeFileSync(file, body);
  return file;
}

function spawn(id: string, argv: string[], cols = 100, rows = 30): void {
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--cols', String(cols), '--rows', String(rows), '--', ...argv]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
}

async function agentShows(id: string, re: RegExp): Promise<void> {
  const r = sb.run(['agent', 'wait', id, '--text', re.source, '--timeout', '40'], { timeoutMs: 50_000 });
  expect(r, r.stderr).toMatchObject({ code: 0 });
}

/** A pane that runs `agent attach ID`, then a hex reader: what the terminal sends after the attach ends. */
function attachThenRead(name: string, id: string, ...flags: string[]): TmuxView {
  const reader = writeScript('after.sh', HEX_READER);
  const attach = [process.execPath, CLI, 'agent', 'attach', id, ...flags].map((a) => `'${a}'`).join(' ');
  return new TmuxView(sb, name, 100, 30, ['bash', '-c', `${attach}; echo "attach exited $?"; exec bash '${reader}' ''`]);
}

const NORMAL = {
  cursor_flag: '1',
  alternate_on: '0',
  insert_flag: '0',
  origin_flag: '0',
  wrap_flag: '1',
  keypad_cursor_flag: '0',
  keypad_flag: '0',
  mouse_any_flag: '0',
  mouse_all_flag: '0',
  mouse_button_flag: '0',
  mouse_standard_flag: '0',
  mouse_sgr_flag: '0',
  mouse_utf8_flag: '0',
  scroll_region_upper: '0',
  scroll_region_lower: '29',
};

/** Turns on everything a full-screen agent may: alternate screen, mouse, paste, keys, region, cursor. */
const MODES_ON = String.raw`printf '\e[?1049h\e[?1000h\e[?1002h\e[?1003h\e[?1006h\e[?2004h\e[?25l\e[?1h\e=\e[4h\e[?1004h\e[5;20r\e[?6h\e[4 q\e]12;#ff0000\a\e]2;agent title\a'`;

// Generous: on a loaded CI machine each CLI start alone can take seconds.
describe('agent attach', { timeout: 120_000 }, () => {
  it('restores the terminal after a detach: modes off, alternate screen left, cursor shown, a line says so', async () => {
    sb = new Sandbox();
    const agent = writeScript('modes.sh', `${MODES_ON}\nprintf 'full screen agent'\nexec sleep 1000\n`);
    spawn('t1', ['bash', agent]);
    await agentShows('t1', /full screen agent/);
    const v = attachThenRead('viewer', 't1');
    await v.waitText(/full screen agent/);
    // While attached, the user's terminal has the agent's modes.
    await waitFor(() => v.state().mouse_sgr_flag === '1' && v.state().alternate_on === '1', 30_000);
    expect(v.state()).toMatchObject({ cursor_flag: '0', keypad_cursor_flag: '1', keypad_flag: '1', origin_flag: '1', insert_flag: '1', mouse_all_flag: '1' });

    v.keys('C-\\');
    const text = await v.waitText(/reading bytes/);
    expect(text).toContain('[detached from t1]');
    expect(text).toContain('attach exited 0');
    expect(text).not.toContain('full screen agent'); // it was on the alternate screen
    expect(v.state()).toMatchObject(NORMAL);
    // Keys and pastes are plain again: normal cursor keys, no bracketed paste.
    await new Promise((r) => setTimeout(r, 200));
    v.keys('Up');
    v.paste('p');
    await v.waitText(/reading bytes:\n1b 5b 41 70/);
    // The agent did not notice.
    expect(sb.run(['agent', 'list']).stdout).toMatch(/t1 - Running/);
  });

  it('says `[ID exited with code N]` and restores the terminal when the agent exits while attached', async () => {
    sb = new Sandbox();
    const agent = writeScript('exit.sh', `${MODES_ON}\nprintf 'press enter to exit'\nread -r x\nexit 3\n`);
    spawn('e1', ['bash', agent]);
    await agentShows('e1', /press enter/);
    const v = attachThenRead('viewer', 'e1');
    await v.waitText(/press enter to exit/);
    await waitFor(() => v.state().alternate_on === '1', 30_000);
    v.keys('Enter');
    const text = await v.waitText(/reading bytes/);
    expect(text).toContain('[e1 exited with code 3]');
    expect(text).toContain('attach exited 0');
    expect(v.state()).toMatchObject(NORMAL);
    await waitFor(() => sb.readSessions().e1?.status === 'Crashed', 30_000);
  });

  it('restores the cursor style and colour (which tmux does not show): checked on the raw bytes', async () => {
    sb = new Sandbox();
    const agent = writeScript('style.sh', `${MODES_ON}\nprintf 'styled cursor'\nexec sleep 1000\n`);
    spawn('s1', ['bash', agent]);
    await agentShows('s1', /styled cursor/);
    const t = new PtyTerminal([process.execPath, CLI, 'agent', 'attach', 's1'], { cols: 100, rows: 30, env: sb.env, cwd: sb.work });
    try {
      await t.waitText(/styled cursor/);
      expect(t.raw.startsWith('\x1b[22;0t')).toBe(true); // the user's title is pushed
      const replay = t.raw.slice(t.raw.lastIndexOf('\x1b[2J'));
      expect(replay).toContain('\x1b[4 q');
      expect(replay).toContain('\x1b]12;#ff0000\x07');
      expect(replay).toContain('\x1b]2;agent title\x07');
      expect(replay).toContain('\x1b[?1006h');
      expect(replay).toContain('\x1b[5;20r');
      const before = t.raw.length;
      t.write('\x1c');
      expect(await t.exited).toBe(0);
      const leave = t.raw.slice(before);
      expect(leave).toContain('\x1b[0 q');
      expect(leave).toContain('\x1b]112\x07');
      expect(leave).toContain('\x1b[?25h');
      expect(leave).toContain('\x1b[23;0t'); // and popped
      expect(leave).toContain('[detached from s1]');
      expect(t.term.modes).toMatchObject({ mouseTrackingMode: 'none', bracketedPasteMode: false, applicationCursorKeysMode: false, originMode: false, insertMode: false });
      expect(t.term.buffer.active.type).toBe('normal');
    } finally {
      t.kill();
    }
  });

  it('detach key: Ctrl-\\ detaches, pressed twice sends one 0x1c; --detach-key C-] works', async () => {
    sb = new Sandbox();
    const agent = writeScript('hex.sh', HEX_READER);
    spawn('k1', ['bash', agent, '']);
    await agentShows('k1', /reading bytes/);
    await new Promise((r) => setTimeout(r, 200)); // `stty raw` in place

    let v = TmuxView.attach(sb, 'viewer', 100, 30, 'k1');
    await v.waitText(/reading bytes/);
    v.type('a');
    await v.waitText(/^61$/m);
    v.keys('C-\\', 'C-\\'); // one write with both
    v.type('b');
    await v.waitText(/^61 1c 62$/m);
    v.keys('C-\\');
    await new Promise((r) => setTimeout(r, 100)); // a second press within the double-press time
    v.keys('C-\\');
    v.type('c');
    await v.waitText(/^61 1c 62 1c 63$/m);
    expect(v.dead()).toBe(false);
    v.keys('C-\\');
    await waitFor(() => v.dead(), 30_000);
    expect(v.text()).toContain('[detached from k1]');
    expect(v.attachExit()).toBe(0);
    v.kill();

    // A key typed right after a single press: the press was a detach, the key is not sent;
    // in the same read as the press, or in the next one.
    v = TmuxView.attach(sb, 'viewer2', 100, 30, 'k1');
    await v.waitText(/^61 1c 62 1c 63$/m);
    v.keys('C-\\', 'd');
    await waitFor(() => v.dead(), 30_000);
    expect(v.text()).toContain('[detached from k1]');
    v.kill();
    v = TmuxView.attach(sb, 'viewer2b', 100, 30, 'k1');
    await v.waitText(/^61 1c 62 1c 63$/m);
    v.keys('C-\\');
    await new Promise((r) => setTimeout(r, 100));
    v.keys('d', 'C-\\');
    await waitFor(() => v.dead(), 30_000);
    expect(v.text()).toContain('[detached from k1]');
    // The Ctrl-\\ behind the `d` may reach a terminal already cooked again: a SIGQUIT
    // that must not kill the client.
    expect(v.attachExit()).toBe(0);
    v.kill();

    v = TmuxView.attach(sb, 'viewer3', 100, 30, 'k1', '--detach-key', 'C-]');
    await v.waitText(/^61 1c 62 1c 63$/m);
    v.keys('C-\\'); // no longer special: it goes to the agent
    v.type('e');
    await v.waitText(/^61 1c 62 1c 63 1c 65$/m);
    v.keys('C-]');
    await waitFor(() => v.dead(), 30_000);
    expect(v.text()).toContain('[detached from k1]');
    expect(sb.run(['agent', 'capture', 'k1']).stdout).toMatch(/^61 1c 62 1c 63 1c 65$/m);
  });

  it('without a terminal on stdin: a clear error naming the commands for scripts, exit 1', () => {
    sb = new Sandbox();
    spawn('n1', ['sleep', '1000']);
    const r = sb.run(['agent', 'attach', 'n1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: .*terminal/);
    for (const cmd of ['agent send n1', 'agent capture n1', 'agent wait n1', 'agent queue n1']) expect(r.stderr).toContain(cmd);
    expect(sb.readSessions().n1?.last_attached).toBeNull();
    expect(sb.run(['agent', 'attach', 'n1', '--detach-key', 'x']).stderr).toMatch(/^Error: Invalid detach key/);
    expect(sb.run(['agent', 'attach', 'nope'])).toMatchObject({ code: 1, stderr: 'Error: Agent session nope not found\n' });
  });

  it('records last_attached on an attach', async () => {
    sb = new Sandbox();
    spawn('l1', ['bash', '-c', 'echo ready; exec sleep 1000']);
    expect(sb.readSessions().l1?.last_attached).toBeNull();
    const before = Date.now() / 1000;
    const v = TmuxView.attach(sb, 'viewer', 100, 30, 'l1');
    await v.waitText(/ready/);
    // Written right after the screen is shown (so the file's lock never delays it).
    const at = await waitFor(() => sb.readSessions().l1?.last_attached as { secs_since_epoch: number; nanos_since_epoch: number } | null);
    expect(Object.keys(at)).toEqual(['secs_since_epoch', 'nanos_since_epoch']);
    expect(at.secs_since_epoch).toBeGreaterThanOrEqual(Math.floor(before));
    expect(at.secs_since_epoch).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(Number.isInteger(at.nanos_since_epoch) && at.nanos_since_epoch >= 0 && at.nanos_since_epoch < 1e9).toBe(true);
  });

  it('the window size follows the attaching terminal; at the same size the program is left alone unless a redraw is asked for', async () => {
    sb = new Sandbox();
    const agent = writeScript(
      'winch.sh',
      String.raw`
n=0
trap 'n=$((n + 1)); echo "winch $n: $(stty size)"' WINCH
echo "start: $(stty size)"
while :; do sleep 0.05; done
`,
    );
    spawn('w1', ['bash', agent]);
    await agentShows('w1', /start: 30 100/);

    let v = TmuxView.attach(sb, 'viewer', 80, 24, 'w1');
    await v.waitText(/winch 1: 24 80/);
    // The user's terminal changes size while attached.
    v.resize(90, 26);
    await v.waitText(/winch 2: 26 90/);
    v.keys('C-\\');
    await waitFor(() => v.dead(), 30_000);
    v.kill();
    // Detached, nobody sets the size: it stays.
    expect(JSON.parse(sb.run(['agent', 'capture', 'w1', '--json']).stdout)).toMatchObject({ cols: 90, rows: 26 });

    // Same size as the agent already has: no signal, the screen as it was.
    v = TmuxView.attach(sb, 'viewer2', 90, 26, 'w1');
    await v.waitText(/winch 2: 26 90/);
    // The detach key, then r: a redraw (handed-over terminal: the supervisor reads the keys).
    v.keys('C-\\', 'r');
    await v.waitText(/winch 3: 26 90/);
    expect(v.text()).not.toMatch(/winch 4/);
    expect(v.dead()).toBe(false);
    v.kill();
    // Relayed by the client, the same; and --redraw asks for one at attach.
    v = new TmuxView(sb, 'viewer3', 90, 26, ['env', 'SYMPOSIUM_ATTACH_RELAY=1', CLI, 'agent', 'attach', 'w1', '--redraw']);
    await v.waitText(/winch 4: 26 90/);
    v.keys('C-\\', 'r');
    await v.waitText(/winch 5: 26 90/);
    await new Promise((r) => setTimeout(r, 500));
    expect(v.text()).not.toMatch(/winch 6/); // exactly one each
    expect(JSON.parse(sb.run(['agent', 'capture', 'w1', '--json']).stdout)).toMatchObject({ cols: 90, rows: 26 });
  });
});
