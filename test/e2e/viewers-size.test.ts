import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, waitFor } from '../helpers/sandbox';
import { Viewer, captureJson, socketOf, status } from '../helpers/viewers-client';

// The window size with several viewers: `latest` follows the viewer that last typed a
// real key (a lone first viewer sets it on attach); `smallest` fits every writable
// viewer; read-only viewers never count. Checked inside the agent with `stty size`.

let sb: Sandbox;
const viewers: Viewer[] = [];
afterEach(() => {
  for (const v of viewers.splice(0)) v.close();
  sb?.dispose();
});

function spawnBash(s: Sandbox, id: string, extra: string[] = []): string {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--cols', '80', '--rows', '24', ...extra, '--', 'bash', '--norc', '--noprofile', '-i'], {
    env: { PS1: 'P$ ' },
  });
  expect(r).toMatchObject({ code: 0 });
  return socketOf(s, id);
}

async function attach(sock: string, cols: number, rows: number, readOnly = false): Promise<Viewer> {
  const v = await Viewer.attach(sock, { cols, rows, readOnly });
  viewers.push(v);
  await waitFor(() => v.snapshots.length > 0);
  return v;
}

let probe = 0;
/** The size the agent's own terminal reports (`stty size`), as "COLSxROWS". */
async function sttySize(id: string): Promise<string> {
  const n = ++probe;
  // C-c first: a line polluted by the mouse reports typed into bash must not spoil it.
  expect(await sb.runAsync(['agent', 'send', id, '--key', 'C-c'])).toMatchObject({ code: 0 });
  expect(await sb.runAsync(['agent', 'send', id, `echo "sz${n}:$(stty size)"`, '--enter'])).toMatchObject({ code: 0 });
  const re = new RegExp(`^sz${n}:(\\d+) (\\d+)$`, 'm');
  const m = await waitFor(async () => re.exec((await captureJson(sb, id)).text), 15_000, 100);
  return `${m[2]}x${m[1]}`;
}

async function sizeNow(sock: string): Promise<string> {
  const s = await status(sock);
  return `${s.cols}x${s.rows}`;
}

/** Lets the supervisor act on what was sent (and proves it did nothing). */
async function settle(sock: string): Promise<void> {
  await status(sock);
  await new Promise((r) => setTimeout(r, 100));
  await status(sock);
}

describe('size policy: latest', () => {
  it('follows the viewer that last typed; attach, resize, reports and read-only viewers do not take over', async () => {
    sb = new Sandbox();
    const sock = spawnBash(sb, 'sz');
    expect(await sizeNow(sock)).toBe('80x24');

    // A lone first viewer sets the size on attach.
    const a = await attach(sock, 100, 30);
    expect(await sizeNow(sock)).toBe('100x30');
    expect(await sttySize('sz')).toBe('100x30');

    // A second writable viewer attaching does not take over, and is told the size in use.
    const b = await attach(sock, 90, 20);
    expect(b.snapshots[0]).toMatchObject({ cols: 100, rows: 30 });
    expect(b.welcome.session).toMatchObject({ cols: 100, rows: 30 });
    // A read-only viewer: same.
    const ro = await attach(sock, 60, 10, true);
    expect(ro.snapshots[0]).toMatchObject({ cols: 100, rows: 30 });
    expect(ro.welcome.session.readOnly).toBe(true);
    await settle(sock);
    expect(await sizeNow(sock)).toBe('100x30');

    // Resizing a viewer that has not typed: no change.
    b.resize(95, 25);
    await settle(sock);
    expect(await sizeNow(sock)).toBe('100x30');
    // Mouse reports, focus events and answers to queries are not typing.
    b.input('\x1b[<0;5;5M\x1b[<0;5;5m\x1b[I\x1b[O\x1b[?1;2c\x1b[3;7R');
    await settle(sock);
    expect(await sizeNow(sock)).toBe('100x30');
    // The read-only viewer's resize and input are refused with an error frame.
    ro.resize(50, 12);
    ro.input('echo nope\r');
    await waitFor(() => ro.errors.length >= 2);
    expect(ro.errors.map((e) => e.code)).toEqual(['read-only', 'read-only']);
    expect(await sizeNow(sock)).toBe('100x30');
    expect(a.sizes).toEqual([]);

    // b types a real key: the window follows b, and every viewer is told.
    b.input('x\x7f');
    await waitFor(async () => (await sizeNow(sock)) === '95x25');
    expect(await sttySize('sz')).toBe('95x25');
    for (const v of [a, b, ro]) await waitFor(() => v.sizes.at(-1)?.cols === 95 && v.sizes.at(-1)?.rows === 25);

    // a resizes without typing: still b's size. Then a types: a's new size.
    a.resize(110, 35);
    await settle(sock);
    expect(await sizeNow(sock)).toBe('95x25');
    a.input('y\x7f');
    await waitFor(async () => (await sizeNow(sock)) === '110x35');
    expect(await sttySize('sz')).toBe('110x35');

    // The owner leaves: the one that typed before it (b) takes over.
    a.close();
    await waitFor(async () => (await sizeNow(sock)) === '95x25');
    // The last writable viewer leaves: a read-only one alone never sets the size.
    b.close();
    await waitFor(async () => (await status(sock)).viewers === 1);
    await settle(sock);
    expect(await sizeNow(sock)).toBe('95x25');
    expect(await sttySize('sz')).toBe('95x25');

    // A new lone writable viewer sets it again on attach.
    const c = await attach(sock, 70, 21);
    expect(c.snapshots[0]).toMatchObject({ cols: 70, rows: 21 });
    expect(await sizeNow(sock)).toBe('70x21');
    expect(ro.sizes.at(-1)).toEqual({ cols: 70, rows: 21 });
    // Nothing went wrong on any stream.
    for (const v of [a, b, ro, c]) expect(v.gaps).toEqual([]);
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  });
});

describe('size policy: smallest', () => {
  it('--size smallest fits the smallest writable viewer, ignoring read-only ones', async () => {
    sb = new Sandbox();
    const sock = spawnBash(sb, 'sm', ['--size', 'smallest']);
    const a = await attach(sock, 100, 30);
    expect(await sizeNow(sock)).toBe('100x30');
    const b = await attach(sock, 90, 20);
    await waitFor(async () => (await sizeNow(sock)) === '90x20');
    expect(await sttySize('sm')).toBe('90x20');
    const ro = await attach(sock, 40, 10, true);
    expect(ro.snapshots[0]).toMatchObject({ cols: 90, rows: 20 });
    await settle(sock);
    expect(await sizeNow(sock)).toBe('90x20');
    // Typing does not matter under smallest.
    a.input('z\x7f');
    await settle(sock);
    expect(await sizeNow(sock)).toBe('90x20');
    // Each dimension is the smallest of the writable viewers (as tmux does).
    b.resize(120, 25);
    await waitFor(async () => (await sizeNow(sock)) === '100x25');
    b.close();
    await waitFor(async () => (await sizeNow(sock)) === '100x30');
    expect(await sttySize('sm')).toBe('100x30');
    expect(a.sizes.map((s) => `${s.cols}x${s.rows}`)).toEqual(['90x20', '100x25', '100x30']);
    expect(ro.errors).toEqual([]);
  });
});
