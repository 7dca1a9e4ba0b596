import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, waitFor } from '../helpers/sandbox';
import { CliViewer, Viewer, captureJson, socketOf, status } from '../helpers/viewers-client';

// Viewers come and go: a killed attach client (kill -9: no goodbye) leaves the agent
// untouched and attaching again shows the exact screen; `list --json` counts viewers;
// a viewer of another size is told the size in use.

let sb: Sandbox;
const viewers: Viewer[] = [];
const clis: CliViewer[] = [];
afterEach(() => {
  for (const v of viewers.splice(0)) v.close();
  for (const c of clis.splice(0)) c.dispose();
  sb?.dispose();
});

function spawnBash(s: Sandbox, id: string): string {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--cols', '80', '--rows', '24', '--', 'bash', '--norc', '--noprofile', '-i'], {
    env: { PS1: 'P$ ', LESS: '', LESSHISTFILE: '-' },
  });
  expect(r).toMatchObject({ code: 0 });
  return socketOf(s, id);
}

async function showsCapture(v: CliViewer, id: string): Promise<void> {
  let last = '';
  await waitFor(async () => {
    await v.flush();
    const cap = await captureJson(sb, id);
    last = cap.text;
    return v.screenText() === cap.text && JSON.stringify(v.cursor()) === JSON.stringify(cap.cursor);
  }, 20_000, 150).catch((err: Error) => {
    expect(v.screenText()).toBe(last);
    throw err;
  });
}

function attachCli(id: string, cols = 80, rows = 24, args: string[] = []): CliViewer {
  const v = new CliViewer(sb, id, { cols, rows, args });
  clis.push(v);
  return v;
}

describe('viewers that go away', () => {
  it('kill -9 of an attach client leaves the session untouched; attaching again shows the exact screen', async () => {
    sb = new Sandbox();
    const sock = spawnBash(sb, 'rc');
    const before = await status(sock);
    const file = path.join(sb.work, 'text.txt');
    fs.writeFileSync(file, Array.from({ length: 200 }, (_, i) => `\x1b[3${i % 8}mline ${i}\x1b[0m of the file`).join('\n'));
    await sb.runAsync(['agent', 'send', 'rc', 'printf "\\e[1;31mred\\e[0m and plain\\n"', '--enter']);

    const v1 = attachCli('rc');
    await showsCapture(v1, 'rc');
    // Typed in the real client: reaches the agent.
    v1.type('echo typed-$((2+3))\r');
    await waitFor(async () => (await captureJson(sb, 'rc')).text.includes('typed-5'), 10_000, 100);
    // A full-screen program on the alternate screen, scrolled a bit.
    v1.type('less -R text.txt\r');
    await waitFor(async () => (await captureJson(sb, 'rc')).text.includes('line 0 of the file'), 10_000, 100);
    v1.type('   ');
    await showsCapture(v1, 'rc');
    const screenBefore = await captureJson(sb, 'rc');
    expect((await status(sock)).viewers).toBe(1);

    // The client dies without a word.
    v1.kill('SIGKILL');
    await v1.exited;
    await waitFor(async () => (await status(sock)).viewers === 0);
    const after = await status(sock);
    expect(after).toMatchObject({ agentPid: before.agentPid, supervisorPid: before.supervisorPid, ended: false, cols: 80, rows: 24 });
    expect(await captureJson(sb, 'rc')).toEqual(screenBefore);
    const list = JSON.parse((await sb.runAsync(['agent', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(list[0]).toMatchObject({ id: 'rc', status: 'Running', viewers: 0 });

    // A closed terminal (SIGHUP to the client) leaves it untouched too.
    const hung = attachCli('rc');
    await showsCapture(hung, 'rc');
    hung.kill('SIGHUP');
    await hung.exited;
    await waitFor(async () => (await status(sock)).viewers === 0);
    expect(await status(sock)).toMatchObject({ agentPid: before.agentPid, ended: false });
    expect(await captureJson(sb, 'rc')).toEqual(screenBefore);

    // Attach again: the exact screen (alternate screen, colours and cursor included).
    const v2 = attachCli('rc');
    await showsCapture(v2, 'rc');
    expect(v2.term.buffer.active.type).toBe('alternate');
    const ansi = (await sb.runAsync(['agent', 'capture', 'rc', '--ansi'])).stdout;
    expect(ansi).toContain('\x1b[');
    // Colours: the cell of "line" on the first row has the colour the file gave it.
    const firstLine = screenBefore.text.split('\n')[0]!;
    const n = Number(/line (\d+)/.exec(firstLine)![1]);
    expect(v2.term.buffer.active.getLine(0)!.getCell(0)!.getFgColor()).toBe(n % 8);
    // It still drives the agent.
    v2.type('q');
    await waitFor(async () => (await captureJson(sb, 'rc')).text.endsWith('P$'), 10_000, 100);
    await showsCapture(v2, 'rc');
    v2.type('\x1c');
    expect(await v2.exited).toBe(0);
    expect(v2.raw).toContain('[detached from rc]');
    expect(v2.raw).not.toContain('window is');
  });

  it('list --json shows backend, status, pid, exit code, size and viewers; the attach client tells a viewer the size in use', async () => {
    sb = new Sandbox();
    const sock = spawnBash(sb, 'ls');
    const a = await Viewer.attach(sock, { cols: 100, rows: 30 });
    viewers.push(a);
    await waitFor(() => a.snapshots.length > 0);
    // The CLI client, smaller: it does not take the size by attaching.
    const cli = attachCli('ls', 80, 24);
    await waitFor(async () => (await status(sock)).viewers === 2);
    await waitFor(() => cli.screenText().includes('P$'));

    const list = JSON.parse((await sb.runAsync(['agent', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id: 'ls',
      backend: 'pty',
      status: 'Running',
      pid: a.welcome.session.agentPid,
      supervisorPid: a.welcome.session.supervisorPid,
      exitCode: null,
      cols: 100,
      rows: 30,
      viewers: 2,
    });
    for (const k of ['backend', 'status', 'pid', 'exitCode', 'cols', 'rows', 'viewers']) expect(list[0]).toHaveProperty(k);

    // Detach (Ctrl-\): the client says the window was another size and why.
    cli.type('\x1c');
    expect(await cli.exited).toBe(0);
    expect(cli.raw).toContain('[detached from ls]');
    expect(cli.raw).toContain("[ls's window is 100x30, this terminal is 80x24: another viewer sets it; typing a key takes it over]");
    await waitFor(async () => (await status(sock)).viewers === 1);

    // A read-only CLI viewer is told why it never sets the size.
    const ro = attachCli('ls', 70, 20, ['--read-only']);
    await waitFor(() => ro.screenText().includes('P$'));
    ro.type('echo ignored\r');
    ro.type('\x1c');
    expect(await ro.exited).toBe(0);
    expect(ro.raw).toContain("[ls's window is 100x30, this terminal is 70x20: a read-only viewer never sets it]");
    expect((await captureJson(sb, 'ls')).text).not.toContain('ignored');

    // The agent ends with a code: list shows it; no viewers any more.
    a.input('exit 3\r');
    await waitFor(() => a.exit !== null, 15_000);
    expect(a.exit).toEqual({ code: 3, signal: null });
    const ended = await waitFor(async () => {
      const l = JSON.parse((await sb.runAsync(['agent', 'list', '--json'])).stdout) as Array<Record<string, unknown>>;
      return l[0]?.exitCode === 3 ? l[0] : null;
    }, 15_000, 200);
    expect(ended).toMatchObject({ backend: 'pty', exitCode: 3 });
    expect(['Crashed', 'Stopped']).toContain(ended.status);
  });
});
