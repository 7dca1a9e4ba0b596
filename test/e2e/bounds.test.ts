import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Mp, RawClient, frame, socketOf } from '../helpers/raw-client';
import { type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// Nothing a client does makes a supervisor hold without bound (issue 16): answers to a
// client that never reads, frames it never finishes, connections that never say hello,
// input for an agent that never reads. Each test is the attack itself, against a real
// supervisor, and checks what the supervisor holds (status.bufferedBytes) and that
// everyone else is still served.

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });
const MiB = 1024 * 1024;

function spawnOk(s: Sandbox, id: string, cmd: string[]): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--', ...cmd]);
  expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
}

/** A raw connection that sends what it is given and never reads a byte. */
async function deafClient(sock: string, first: Mp[] = [{ t: 'hello', protocol: 1, mode: 'control' }]): Promise<net.Socket> {
  const s = net.createConnection(sock);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  s.pause();
  for (const m of first) s.write(frame(m));
  return s;
}

async function status(sock: string): Promise<Record<string, Mp>> {
  const c = await RawClient.hello(sock, { mode: 'control', readOnly: true });
  try {
    const r = await c.request('status');
    expect(r.ok).toBe(true);
    return r.result as Record<string, Mp>;
  } finally {
    c.destroy();
  }
}

describe('answers to a client that never reads', { timeout: 60_000 }, () => {
  it('count before they are computed: 3 000 scrollback captures hold a few MiB, others are served at once, nothing more is done once it leaves', async () => {
    const s = sandbox();
    spawnOk(s, 'c1', ['bash', '-c', 'seq -f "line %06g ......................................................................................." 1 3000; exec cat']);
    const sock = socketOf(s.runtime, 'c1');
    await waitFor(() => s.run(['agent', 'capture', 'c1']).stdout.includes('line 003000'));
    const one = await RawClient.hello(sock, { mode: 'control' });
    const replyBytes = ((await one.request('capture', { scrollback: true })).result as { text: string }).text.length;
    one.destroy();
    expect(replyBytes).toBeGreaterThan(250_000);

    const viewer = await RawClient.hello(sock, { cols: 80, rows: 24 });
    const deaf = await deafClient(sock);
    const burst: Buffer[] = [];
    for (let id = 1; id <= 3000; id++) burst.push(frame({ t: 'request', id, op: 'capture', scrollback: true }));
    deaf.write(Buffer.concat(burst)); // 900 MB of answers, were they all computed
    // It reaches the bound; past it nothing more is computed for it.
    const bound = 4 * MiB + 4 * (replyBytes + 1024) + MiB;
    await waitFor(async () => ((await status(sock)).bufferedBytes as number) > 4 * MiB);
    for (let i = 0; i < 5; i++) expect((await status(sock)).bufferedBytes as number).toBeLessThan(bound);
    // The viewer is served meanwhile: its typing is echoed.
    expect(s.run(['agent', 'send', 'c1', 'typed-during-the-burst', '--enter']).code).toBe(0);
    await viewer.next((m) => m.t === 'output' && Buffer.from(m.data as Uint8Array).toString().includes('typed-during-the-burst'));
    // Gone: what was held for it goes with it, and its remaining requests are dropped.
    deaf.destroy();
    await waitFor(async () => ((await status(sock)).bufferedBytes as number) < MiB);
    expect((await status(sock)).connections).toBe(2); // the viewer, and the asking one
    viewer.destroy();
  });
});

describe('frames never finished, connections that never say hello', { timeout: 60_000 }, () => {
  it('large frames being received are bounded for the whole supervisor: past 64 MiB one is refused with busy', async () => {
    const s = sandbox();
    spawnOk(s, 'f1', ['sleep', '600']);
    const sock = socketOf(s.runtime, 'f1');
    // Each announces a 16 MiB frame, sends 1 MiB of it, and stops.
    const start = async () => {
      const c = await RawClient.hello(sock, { mode: 'control' });
      const head = Buffer.alloc(4);
      head.writeUInt32BE(16 * MiB);
      c.write(Buffer.concat([head, Buffer.alloc(MiB, 0x90)]));
      return c;
    };
    const held = [await start(), await start(), await start(), await start()];
    await waitFor(async () => ((await status(sock)).bufferedBytes as number) >= 4 * MiB);
    const fifth = await start();
    expect(await fifth.next((m) => m.t === 'error')).toMatchObject({ code: 'busy', message: expect.stringMatching(/too many large frames/) });
    expect(await fifth.waitClosed()).toBe(true);
    // One of them leaves: its room is free again.
    held.pop()!.destroy();
    const again = await start();
    await waitFor(async () => ((await status(sock)).connections as number) === 5);
    expect(again.closed).toBe(false);
    for (const c of [...held, again]) c.destroy();
  });

  it('256 connections that never say hello do not lock anyone out; each is dropped after 5 s', async () => {
    const s = sandbox();
    spawnOk(s, 'h1', ['sleep', '600']);
    const sock = socketOf(s.runtime, 'h1');
    const idle = await Promise.all(Array.from({ length: 256 }, () => RawClient.connect(sock)));
    // A client that says hello still gets in: the oldest idle connection makes room.
    const c = await RawClient.hello(sock, { mode: 'control' });
    expect((await c.request('status')).ok).toBe(true);
    expect(await idle[0]!.next((m) => m.t === 'error')).toMatchObject({ code: 'hello-required', message: expect.stringMatching(/dropped for a newer one/) });
    // The others are dropped once their time is up.
    await waitFor(() => idle.slice(1).every((i) => i.closed), 15_000);
    expect(await idle[1]!.next((m) => m.t === 'error')).toMatchObject({ code: 'hello-required', message: 'no hello within 5 s' });
    expect(c.closed).toBe(false);
    c.destroy();
  });
});

describe('input for an agent that does not read', { timeout: 60_000 }, () => {
  it('past 1 MiB the writer waits and a send is refused with busy, counted in bufferedBytes; once the agent reads, every byte arrives', async () => {
    const s = sandbox();
    // Raw mode: the terminal keeps what it is given (a canonical line discards past 4 KB).
    spawnOk(s, 'n1', ['bash', '-c', 'stty raw -echo; while [ ! -e go ]; do sleep 0.1; done; head -c 16777216 > /dev/null; echo READ-ALL; exec sleep 600']);
    const sock = socketOf(s.runtime, 'n1');
    await waitFor(() => s.run(['agent', 'list']).stdout.includes('n1 - Running'));
    const writer = await RawClient.hello(sock, { mode: 'control' });
    for (let i = 0; i < 16; i++) writer.send({ t: 'input', data: Buffer.alloc(MiB, 0x61) });
    await waitFor(async () => ((await status(sock)).bufferedBytes as number) > MiB);
    // Held: the 1 MiB bound, the input that crossed it, the next frame being received.
    for (let i = 0; i < 5; i++) expect((await status(sock)).bufferedBytes as number).toBeLessThan(4 * MiB);
    const refused = s.run(['agent', 'send', 'n1', 'more', '--enter']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Error: Agent session n1: the agent is not reading its input \(\d+ bytes wait for it\); try again later\n$/);
    // It reads: the writer goes on, and all 16 MiB arrive.
    fs.writeFileSync(path.join(s.work, 'go'), '');
    // (Asynchronously: the writer is this process, which must go on sending meanwhile.)
    const w = await s.runAsync(['agent', 'wait', 'n1', '--text', 'READ-ALL', '--timeout', '50'], { timeoutMs: 55_000 });
    expect(w.code).toBe(0);
    await waitFor(async () => (await status(sock)).bufferedBytes === 0);
    expect(writer.closed).toBe(false);
    writer.destroy();
  });
});

describe('a supervisor that does not answer', { timeout: 60_000 }, () => {
  it('is listed as Running [not answering], not as plain Running', async () => {
    const s = sandbox();
    spawnOk(s, 'z1', ['sleep', '600']);
    const sup = s.readSessions().z1!.supervisor_pid as number;
    process.kill(sup, 'SIGSTOP');
    try {
      expect(s.run(['agent', 'list']).stdout).toBe('Active agent sessions:\n  z1 - Running (symposium-agent-z1)  [not answering]\n');
      const json = JSON.parse(s.run(['agent', 'list', '--json']).stdout) as Array<Record<string, unknown>>;
      expect(json[0]).toMatchObject({ id: 'z1', status: 'Running', responding: false });
    } finally {
      process.kill(sup, 'SIGCONT');
    }
    // Answering again: its state, whichever it is by now (the start grace may not be over).
    expect(s.run(['agent', 'list']).stdout).toMatch(/^Active agent sessions:\n {2}z1 - Running \(symposium-agent-z1\) {2}\[(idle|working|starting)\]\n$/);
    expect((JSON.parse(s.run(['agent', 'list', '--json']).stdout) as Array<Record<string, unknown>>)[0]).toMatchObject({ responding: true });
  });
});
