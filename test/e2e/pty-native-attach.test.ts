import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyTerminal } from '../helpers/pty-terminal';
import { type Mp, frame, frameOf, mp, unmp } from '../helpers/raw-client';
import { CLI, ROOT, Sandbox, waitFor } from '../helpers/sandbox';

// The native front end of `agent attach` (native/attach.c, dist/symposium-attach), run as
// a user runs it: bin/symposium-mcp in a real pty, against real supervisors. It handles
// the common case itself and hands everything else to the Node CLI, which must then say
// exactly what it says without it (SYMPOSIUM_NATIVE_CLIENT=0).

const NATIVE = path.join(ROOT, 'dist', 'symposium-attach');

let sb: Sandbox;
const outers: Array<{ kill(): void }> = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const o of outers.splice(0)) o.kill();
  for (const s of servers.splice(0)) s.close();
  sb?.dispose();
});

/** Spawns `argv` and waits until its screen says `ready`. */
async function spawnReady(id: string, argv: string[]): Promise<void> {
  spawn(id, argv);
  await waitFor(() => sb.run(['agent', 'capture', id]).stdout.includes('ready'));
}

function spawn(id: string, argv: string[], cols = 100, rows = 30): void {
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--cols', String(cols), '--rows', String(rows), '--', ...argv]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
}

function script(name: string, body: string): string {
  const file = path.join(sb.work, name);
  fs.writeFileSync(file, body);
  return file;
}

/** An agent with 300 lines of history that reports its window size and echoes what it reads. */
const AGENT = `
for i in $(seq 1 300); do echo "history line $i"; done
trap 'echo "size $(stty size)"' WINCH
echo ready
while :; do
  if read -r -t 0.2 l; then echo "got: $l"; fi # a timeout, so that the trap runs
done
`;

interface Attached {
  t: PtyTerminal;
  /** The attach's exit code and the terminal's `stty -a` once it has ended. */
  done: () => Promise<{ code: number; stty: string }>;
  /** The attach process (the shell's child). */
  pid: () => Promise<number>;
}

/**
 * `agent attach ARGS` in a real pty, under a shell that records its exit code and the
 * terminal's modes after it (`stty -a`), then waits.
 */
function attach(args: string[], opts: { env?: NodeJS.ProcessEnv; cols?: number; rows?: number; redirect?: string } = {}): Attached {
  const dir = fs.mkdtempSync(path.join(sb.dir, 'a-'));
  const redirect = opts.redirect ? ` > '${opts.redirect}'` : '';
  const sh = `"$0" "$@"${redirect}; echo $? > '${dir}/rc.tmp'; stty -a > '${dir}/stty'; mv '${dir}/rc.tmp' '${dir}/rc'; echo "[shell after attach]"; exec sleep 1000`;
  const t = new PtyTerminal(['sh', '-c', sh, CLI, ...args], { cols: opts.cols ?? 100, rows: opts.rows ?? 30, env: { ...sb.env, ...opts.env }, cwd: sb.work });
  outers.push(t);
  return {
    t,
    done: async () => {
      await waitFor(() => fs.existsSync(`${dir}/rc`), 30_000);
      await t.waitText(/\[shell after attach\]/); // the attach's last words are on the screen too
      return { code: Number(fs.readFileSync(`${dir}/rc`, 'utf8').trim()), stty: fs.readFileSync(`${dir}/stty`, 'utf8') };
    },
    pid: () =>
      waitFor(() => {
        try {
          const kids = fs.readFileSync(`/proc/${t.pid}/task/${t.pid}/children`, 'utf8').trim();
          return kids ? Number(kids.split(/\s+/)[0]) : null;
        } catch {
          return null;
        }
      }),
  };
}

/** Every line the terminal holds, its scrollback included. */
function allLines(t: PtyTerminal): string {
  const buf = t.term.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < buf.length; y++) lines.push(buf.getLine(y)?.translateToString(true) ?? '');
  return lines.join('\n');
}

/** Cooked again: canonical input, echo, signals, output processing. */
function expectCooked(stty: string): void {
  for (const flag of ['icanon', 'echo', 'isig', 'opost', 'icrnl']) expect(stty, flag).toMatch(new RegExp(`(^|\\s)${flag}(\\s|$)`, 'm'));
}

function exeOf(pid: number): string {
  return fs.readlinkSync(`/proc/${pid}/exe`);
}

/** What the attach said: the terminal's text from the line that starts with `[`. */
function verdict(t: PtyTerminal): string {
  return t.text().split('\n').filter((l) => l.startsWith('[') && !l.startsWith('[shell')).join('\n');
}

describe('native attach client', { timeout: 120_000 }, () => {
  it('is the process that attaches, shows the screen and the history, passes keys and sizes, detaches with the key and restores the terminal', async () => {
    sb = new Sandbox();
    await spawnReady('n1', ['bash', '--norc', '--noprofile', script('agent.sh', AGENT)]);
    const a = attach(['agent', 'attach', 'n1']);
    await a.t.waitText(/^ready$/m);
    // Not Node: the native binary itself (the launcher exec'd it in place).
    expect(exeOf(await a.pid())).toBe(NATIVE);
    expect(allLines(a.t)).toMatch(/^history line 1$/m);
    expect(allLines(a.t)).toMatch(/^history line 300$/m);
    a.t.write('hello native\r');
    await a.t.waitText(/^got: hello native$/m);
    a.t.resize(90, 25);
    await a.t.waitText(/^size 25 90$/m);
    a.t.write('\x1c');
    const r = await a.done();
    expect(r.code).toBe(0);
    expect(a.t.text()).toMatch(/^\[detached from n1\]$/m);
    expectCooked(r.stty);
  });

  it('--read-only: keys do not reach the agent, the detach key still works; the size notice as Node words it', async () => {
    sb = new Sandbox();
    await spawnReady('n2', ['bash', '--norc', '--noprofile', script('agent.sh', AGENT)]);
    const a = attach(['agent', 'attach', 'n2', '--read-only', '--detach-key', 'C-]'], { cols: 90, rows: 24 });
    await a.t.waitText(/^ready$/m);
    a.t.write('ignored\r');
    await new Promise((r) => setTimeout(r, 500));
    expect(sb.run(['agent', 'capture', 'n2']).stdout).not.toContain('got: ignored');
    a.t.write('\x1d');
    const r = await a.done();
    expect(r.code).toBe(0);
    expect(verdict(a.t)).toBe("[detached from n2]\n[n2's window is 100x30, this terminal is 90x24: a read-only viewer never sets it]");
    expectCooked(r.stty);
  });

  it('says how the agent ended: exit code, and a killed supervisor is a lost connection (exit 1)', async () => {
    sb = new Sandbox();
    await spawnReady('n3', ['bash', '-c', 'echo ready; read -r x; exit 7']);
    const a = attach(['agent', 'attach', 'n3']);
    await a.t.waitText(/^ready$/m);
    expect(exeOf(await a.pid())).toBe(NATIVE);
    a.t.write('bye\r');
    const r = await a.done();
    expect(r).toMatchObject({ code: 0 });
    expect(verdict(a.t)).toBe('[n3 exited with code 7]');
    expectCooked(r.stty);

    await spawnReady('n4', ['bash', '-c', 'echo ready; exec sleep 1000']);
    const b = attach(['agent', 'attach', 'n4']);
    await b.t.waitText(/^ready$/m);
    process.kill(sb.readSessions().n4!.supervisor_pid as number, 'SIGKILL');
    const rb = await b.done();
    expect(rb.code).toBe(1);
    expect(verdict(b.t)).toBe('[lost connection to n4]');
    expectCooked(rb.stty);
  });

  it('SIGTERM detaches (the supervisor lets go first) and restores the terminal', async () => {
    sb = new Sandbox();
    await spawnReady('n5', ['bash', '-c', 'echo ready; exec sleep 1000']);
    const a = attach(['agent', 'attach', 'n5']);
    await a.t.waitText(/^ready$/m);
    const pid = await a.pid();
    expect(exeOf(pid)).toBe(NATIVE);
    process.kill(pid, 'SIGTERM');
    const r = await a.done();
    expect(r.code).toBe(0);
    expect(verdict(a.t)).toBe('[detached from n5]');
    expectCooked(r.stty);
    // The agent is untouched.
    expect(sb.run(['agent', 'capture', 'n5']).stdout).toContain('ready');
  });

  it('records last_attached through the supervisor, for the native client and for the Node client', async () => {
    sb = new Sandbox();
    spawn('n6', ['bash', '-c', 'echo ready; exec sleep 1000']);
    expect(sb.readSessions().n6?.last_attached).toBeNull();
    for (const native of ['1', '0']) {
      const before = Date.now() / 1000;
      const a = attach(['agent', 'attach', 'n6'], { env: { SYMPOSIUM_NATIVE_CLIENT: native } });
      await a.t.waitText(/^ready$/m);
      const exe = exeOf(await a.pid());
      if (native === '1') expect(exe).toBe(NATIVE);
      else expect(path.basename(exe)).toMatch(/^node/);
      const at = await waitFor(() => {
        const v = sb.readSessions().n6?.last_attached as { secs_since_epoch: number; nanos_since_epoch: number } | null;
        return v && v.secs_since_epoch >= Math.floor(before) ? v : null;
      });
      expect(Object.keys(at)).toEqual(['secs_since_epoch', 'nanos_since_epoch']);
      expect(at.secs_since_epoch).toBeLessThanOrEqual(Date.now() / 1000 + 1);
      a.t.write('\x1c');
      expect((await a.done()).code).toBe(0);
      await new Promise((r) => setTimeout(r, 1100)); // the next attach records a later second
    }
  });

  /** Runs `agent attach ARGS` with the native client and with Node alone: the same words and code. */
  async function sameAsNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ text: string; code: number }> {
    const out: Array<{ text: string; code: number; stty: string }> = [];
    for (const native of ['1', '0']) {
      const a = attach(['agent', 'attach', ...args], { env: { ...env, SYMPOSIUM_NATIVE_CLIENT: native } });
      const r = await a.done();
      await a.t.waitText(/\[shell after attach\]/);
      out.push({ text: a.t.text().replace(/\n?\[shell after attach\]$/, ''), code: r.code, stty: r.stty });
      a.t.kill();
    }
    expect(out[0]!.text).toBe(out[1]!.text);
    expect(out[0]!.code).toBe(out[1]!.code);
    expect(out[0]!.stty).toBe(out[1]!.stty);
    return { text: out[0]!.text, code: out[0]!.code };
  }

  it('hands what it does not handle to Node: unknown or invalid ids, ended sessions, a garbled sessions file, unknown options', async () => {
    sb = new Sandbox();
    spawn('e1', ['true']);
    await waitFor(() => ['Stopped', 'Crashed'].includes(sb.readSessions().e1?.status as string), 30_000);
    expect(await sameAsNode(['nope'])).toEqual({ text: 'Error: Agent session nope not found', code: 1 });
    expect((await sameAsNode(['../e1'])).text).toMatch(/^Error: Invalid agent id "..\/e1"/);
    expect((await sameAsNode(['e1'])).text).toMatch(/^Error: Agent session e1 has ended/);
    spawn('e2', ['sleep', '1000']);
    expect((await sameAsNode(['e2', '--detach-key', 'x'])).text).toMatch(/^Error: Invalid detach key "x"/);
    expect((await sameAsNode(['e1', '--bogus'])).code).not.toBe(0);
    expect((await sameAsNode(['--help'])).code).toBe(0);
    // A sessions file Node refuses: its words, never a crash of the native client.
    const file = sb.sessionsFile();
    const good = fs.readFileSync(file, 'utf8');
    const garbled = [
      good.slice(0, good.length / 2),
      good.replace('"status"', '"status": "Running", "status"'),
      good.replace(/"created_at": \{/, '"created_at": {"secs_since_epoch": -1, "x": '),
      good.replace('"e1"', '"e1", "__proto__"'),
      '{"e1": [1, 2, 3]}',
      '[]',
      '\u00ef\u00bb\u00bf{}',
      `{"e1": ${'['.repeat(100_000)}}`,
      '{"e1": {"uuid": "e1\\ud800", "status": "Running"}}',
    ];
    for (const text of garbled) {
      fs.writeFileSync(file, text);
      const r = await sameAsNode(['e1']);
      expect(r.text).toMatch(/^Error: /);
    }
    fs.writeFileSync(file, good);
  });

  it('--print, stdout not the terminal, SYMPOSIUM_ATTACH_RELAY=1: Node attaches (relaying where the terminal is not whole)', async () => {
    sb = new Sandbox();
    await spawnReady('r1', ['bash', '--norc', '--noprofile', script('agent.sh', AGENT)]);
    const isNode = (exe: string) => expect(path.basename(exe)).toMatch(/^node/);
    for (const [args, env] of [
      [['--print'], {}],
      [[], { SYMPOSIUM_ATTACH_RELAY: '1' }],
    ] as Array<[string[], NodeJS.ProcessEnv]>) {
      const a = attach(['agent', 'attach', 'r1', ...args], { env });
      await a.t.waitText(/^ready$/m);
      isNode(exeOf(await a.pid()));
      a.t.write('\x1c');
      expect((await a.done()).code).toBe(0);
      expect(a.t.text()).toMatch(/^\[detached from r1\]$/m);
    }
    const log = path.join(sb.dir, 'attach.log');
    const a = attach(['agent', 'attach', 'r1'], { redirect: log });
    await waitFor(() => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('ready'));
    isNode(exeOf(await a.pid()));
    a.t.write('\x1c');
    const r = await a.done();
    expect(r.code).toBe(0);
    expect(fs.readFileSync(log, 'utf8')).toContain('[detached from r1]');
    expectCooked(r.stty);
  });
});

// A supervisor of the test's own, speaking the framing (protocol.md §2) and then garbage:
// the native client must end with a line and a restored terminal, never crash or hang.

/** A deterministic generator, so that a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function garbage(rand: () => number, i: number): Buffer[] {
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const shown = { t: 'shown', seq: 1, cols: 100, rows: 30, reason: 'attach' };
  const cases: Array<() => Buffer[]> = [
    () => [frameOf(bytes(1 + Math.floor(rand() * 64)))],
    () => [bytes(1 + Math.floor(rand() * 32))],
    () => [Buffer.from([0x7f, 0xff, 0xff, 0xff])], // a length over the limit
    () => [Buffer.from([0, 0, 0, 0])], // an empty frame
    () => [frameOf(Buffer.concat([mp(shown), Buffer.from([0xc0])]))], // trailing bytes
    () => [frameOf(mp(shown).subarray(0, 5 + Math.floor(rand() * 10)))], // truncated
    () => [frameOf(Buffer.from([0xde, 0x00, 0x01, 0xa1, 0x74, 0xd4, 0x01, 0x00]))], // an extension
    () => [frameOf(Buffer.from([0x81, 0xa1, 0x74, 0xc1]))], // 0xc1
    () => [frameOf(Buffer.concat([Buffer.alloc(200, 0x91), Buffer.from([0xc0])]))], // deep nesting
    () => [frameOf(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]))], // an array it cannot hold
    () => [frameOf(Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xf0, 0x41]))], // a string longer than the frame
    () => [frame({ t: 'shown', seq: -1, cols: 0, rows: 5000 })],
    () => [frame({ t: 'size', cols: 'x', rows: null })],
    () => [frame({ t: 'exit', code: 'seven', signal: 9 })],
    () => [frame({ t: 'error', code: 7, message: null })],
    () => {
      const f = frame({ t: 'shown', seq: 1, cols: 100, rows: 30 });
      const cut = 1 + Math.floor(rand() * (f.length - 1));
      return [f.subarray(0, cut), Buffer.concat([f.subarray(cut), frameOf(bytes(8))])]; // split, then junk
    },
  ];
  return cases[i % cases.length]!();
}

/** A session record in the sandbox's sessions file whose socket is a server of the test's own. */
async function fakeSupervisor(id: string, onHello: (c: net.Socket, hello: { [k: string]: Mp }) => void): Promise<void> {
  fs.mkdirSync(sb.home, { mode: 0o700, recursive: true });
  fs.mkdirSync(sb.runtime, { mode: 0o700, recursive: true });
  const sockPath = path.join(sb.runtime, `00000000-${id}.sock`);
  const time = { secs_since_epoch: Math.floor(Date.now() / 1000), nanos_since_epoch: 0 };
  const rec = {
    uuid: id,
    tmux_session_name: `symposium-agent-${id}`,
    agent_command: ['sleep', '1000'],
    working_directory: sb.work,
    status: 'Running',
    created_at: time,
    last_attached: null,
    backend: 'pty',
    supervisor_pid: process.pid,
    agent_pid: process.pid,
    socket_path: sockPath,
  };
  fs.writeFileSync(sb.sessionsFile(), JSON.stringify({ [id]: rec }, null, 2), { mode: 0o600 });
  const server = net.createServer((c) => {
    c.on('error', () => {});
    let got = Buffer.alloc(0);
    c.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length < 4 || got.length < 4 + got.readUInt32BE(0)) return;
      const hello = unmp(got.subarray(4, 4 + got.readUInt32BE(0))) as { [k: string]: Mp };
      got = Buffer.alloc(0);
      if (hello.t === 'hello') onHello(c, hello);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(sockPath, r));
  fs.chmodSync(sockPath, 0o600);
}

function welcome(id: string, terminal: boolean): Buffer {
  return frame({
    t: 'welcome',
    protocol: 1,
    server: 'fake/1',
    features: ['key-modes', 'records-attach'],
    session: { id, supervisorPid: process.pid, agentPid: process.pid, cols: 100, rows: 30, viewerId: 1, readOnly: false, terminal, terminalError: terminal ? null : 'not taken' },
  });
}

describe('native attach client against a fake supervisor', { timeout: 180_000 }, () => {
  it('ends every attach with a line, a restored terminal and an exit code when the frames are garbage: never a crash or a hang', async () => {
    sb = new Sandbox();
    const id = 'f1';
    let plan: Buffer[] = [];
    const clients: string[] = [];
    await fakeSupervisor(id, (c, hello) => {
      clients.push(hello.client as string);
      c.write(welcome(id, true));
      c.write(frame({ t: 'shown', seq: 0, cols: 100, rows: 30, reason: 'attach' }));
      for (const part of plan) c.write(part);
      // Some cases leave the frame incomplete: the client waits; the close ends it.
      setTimeout(() => c.destroy(), 300);
    });
    const rand = prng(20240607);
    for (let i = 0; i < 32; i++) {
      plan = garbage(rand, i);
      const a = attach(['agent', 'attach', id]);
      const r = await a.done();
      // One hello, the native client's: it never handed this over to Node.
      expect(clients.splice(0), `case ${i}`).toEqual(['symposium-mcp/native-attach']);
      expect(r.code, `case ${i}: ${a.t.text()}`).toBe(1);
      await a.t.waitText(/\[shell after attach\]/);
      expect(verdict(a.t), `case ${i}`).toBe(`[lost connection to ${id}]`);
      expectCooked(r.stty);
      a.t.kill();
    }
  });

  it('a welcome that did not take the terminal: the native client lets go, restores what it changed and hands over to Node', async () => {
    sb = new Sandbox();
    const id = 'f2';
    const hellos: Array<{ [k: string]: Mp }> = [];
    await fakeSupervisor(id, (c, hello) => {
      hellos.push(hello);
      c.write(welcome(id, false));
      c.write(frame({ t: 'snapshot', seq: 0, cols: 100, rows: 30, reason: 'attach', data: 'picture\r\n', leave: '' }));
      setTimeout(() => c.end(), 300);
    });
    const a = attach(['agent', 'attach', id]);
    const r = await a.done();
    // The native client's hello, then Node's own connections (its sync asks first: this
    // fake does not answer that as a supervisor would, so Node reports the session gone).
    expect(hellos[0]).toMatchObject({ client: 'symposium-mcp/native-attach', mode: 'attach' });
    expect(hellos.length).toBeGreaterThan(1);
    expect(hellos.slice(1).every((h) => /^symposium-mcp\/\d/.test(h.client as string))).toBe(true);
    expect(a.t.raw).not.toContain('picture'); // the native client drew nothing
    // What it changed is undone before Node starts: the title pushed, then popped.
    expect(a.t.raw.startsWith('\x1b[22;0t\x1b[23;0t')).toBe(true);
    expect(r.code).toBe(1);
    expect(a.t.text()).toMatch(/^Error: Agent session f2 has ended/m);
    expectCooked(r.stty);
  });
});
