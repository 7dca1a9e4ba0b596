import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BEFORE_REPLAY, ON_LEAVE } from '../../src/terminal-modes';
import { encodeFrame } from '../../src/protocol/framing';
import { type Msg, RawClient, frame, frameOf, mp, socketOf, unmp } from '../helpers/raw-client';
import { ROOT, Sandbox, waitFor } from '../helpers/sandbox';

// Conformance of a real supervisor to protocol.md, spoken by a client built from the
// document (test/helpers/raw-client.ts: its own msgpack encoder and strict decoder).

const DOC = fs.readFileSync(path.join(ROOT, 'protocol.md'), 'utf8');

/** The bytes of a `<!-- frame-example: NAME -->` hexdump block in protocol.md. */
function docExample(name: string): Buffer {
  const at = DOC.indexOf(`<!-- frame-example: ${name} -->`);
  if (at < 0) throw new Error(`protocol.md has no frame example ${name}`);
  const block = /```text\n([\s\S]*?)```/.exec(DOC.slice(at));
  if (!block) throw new Error(`frame example ${name} has no text block`);
  const bytes: number[] = [];
  for (const line of block[1]!.split('\n')) {
    const m = /^([0-9a-f]{8}) {2}(.*?) *\|/.exec(line);
    if (!m) continue;
    expect(parseInt(m[1]!, 16), `offset column of ${name}`).toBe(bytes.length);
    for (const h of m[2]!.trim().split(/\s+/)) bytes.push(parseInt(h, 16));
  }
  return Buffer.from(bytes);
}

/** Removes escape sequences, leaving the printed text. */
function stripEscapes(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()#][0-9A-Za-z]|\x1b[@-_=>]/g, '');
}

const TICKER = ['sh', '-c', 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo "<$i>"; sleep 0.01; done'];

let sb: Sandbox;

beforeEach(() => {
  sb = new Sandbox();
});
afterEach(() => {
  sb.dispose();
});

function spawn(id: string, command: string[], extra: string[] = []): string {
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--cols', '120', '--rows', '40', ...extra, '--', ...command]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return socketOf(sb.runtime, id);
}

async function control(sock: string, fields: Record<string, Msg[string]> = {}): Promise<RawClient> {
  return RawClient.hello(sock, { mode: 'control', ...fields });
}

async function captureText(sock: string): Promise<string> {
  const c = await control(sock);
  const r = await c.request('capture', { scrollback: true });
  c.destroy();
  expect(r.ok).toBe(true);
  return (r.result as Msg).text as string;
}

/** Types a marker through a writable connection and waits for it on screen: everything sent before has been handled. */
async function barrier(sock: string, marker: string): Promise<string> {
  const c = await control(sock);
  const r = await c.request('send', { data: Buffer.from(`${marker}\r`) });
  expect(r.ok).toBe(true);
  c.destroy();
  return waitFor(async () => {
    const t = await captureText(sock);
    return t.includes(marker) ? t : null;
  });
}

async function expectError(c: RawClient, code: string): Promise<Msg> {
  const e = await c.next((m) => m.t === 'error');
  expect(e.code).toBe(code);
  expect(typeof e.message).toBe('string');
  expect(await c.waitClosed()).toBe(true);
  expect(c.violation).toBeNull();
  return e;
}

describe('protocol.md byte-level examples', () => {
  it('the hexdumps in protocol.md are what the encoder writes, and decode as documented', () => {
    const hello = { t: 'hello', protocol: 1, client: 'example/1', mode: 'attach', readOnly: false, cols: 80, rows: 24, features: ['snapshot-seq'] };
    expect(docExample('hello').toString('hex')).toBe(encodeFrame(hello).toString('hex'));
    expect(docExample('output').toString('hex')).toBe(encodeFrame({ t: 'output', seq: 42, data: Buffer.from('hi\r\n') }).toString('hex'));
    // The document's client decodes them back (map16 from the encoder, fixmap by hand).
    const h = docExample('hello');
    expect(h.readUInt32BE(0)).toBe(h.length - 4);
    expect(unmp(h.subarray(4))).toEqual(hello);
    const o = unmp(docExample('output').subarray(4)) as Msg;
    expect(o).toEqual({ t: 'output', seq: 42, data: Buffer.from('hi\r\n') });
    expect(docExample('minimal-hello').toString('hex')).toBe(frame({ t: 'hello', protocol: 1 }).toString('hex'));
    // The stated total sizes.
    expect(DOC).toContain(`encoded by the reference encoder (${h.length} bytes`);
    expect(DOC).toContain(`(${docExample('output').length} bytes)`);
  });

  it('the reset before a snapshot in protocol.md is what the reference client writes', () => {
    const at = DOC.indexOf('<!-- before-replay -->');
    const block = /```text\n([\s\S]*?)```/.exec(DOC.slice(at));
    expect(at).toBeGreaterThan(0);
    const seq = block![1]!
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (l === 'SI' ? '\x0f' : l.replaceAll('ESC', '\x1b').replaceAll('BEL', '\x07')))
      .join('');
    expect(JSON.stringify(seq)).toBe(JSON.stringify(BEFORE_REPLAY));
    // Leaving: the same resets without home and clear.
    expect(ON_LEAVE.startsWith(seq.slice(0, -'\x1b[H\x1b[2J'.length))).toBe(true);
  });
});

describe('supervisor conformance', () => {
  it('answers hello with a welcome carrying every documented field', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const st = fs.statSync(sock);
    expect(st.mode & 0o777).toBe(0o600);
    expect(fs.statSync(sb.runtime).mode & 0o777).toBe(0o700);
    const c = await RawClient.connect(sock);
    c.send({ t: 'hello', protocol: 1, client: 'conformance/1', mode: 'control', features: ['some-future-thing'] });
    const w = await c.next();
    expect(w.t).toBe('welcome');
    expect(w.protocol).toBe(1);
    expect(typeof w.server).toBe('string');
    expect(w.features).toEqual(expect.arrayContaining(['snapshot-seq', 'read-only', 'resync', 'requests', 'terminal', 'key-modes', 'redraw', 'key-names', 'records-attach']));
    // §4 lists exactly what a supervisor sends.
    const listed = /Version 1 supervisors send `\[([^\]]*)\]`/.exec(DOC.replace(/\n\s*/g, ' '));
    expect(listed, 'the features list of protocol.md §4').not.toBeNull();
    expect(JSON.parse(`[${listed![1]}]`)).toEqual(w.features);
    const s = w.session as Msg;
    expect(s.id).toBe('p1');
    expect(s.cols).toBe(120);
    expect(s.rows).toBe(40);
    expect(s.readOnly).toBe(false);
    expect(Number.isInteger(s.viewerId)).toBe(true);
    for (const pid of [s.supervisorPid, s.agentPid]) {
      expect(Number.isInteger(pid)).toBe(true);
      expect(fs.existsSync(`/proc/${pid as number}`)).toBe(true);
    }
    // A control connection gets nothing unsolicited: the next frame is our response.
    const r = await c.request('status');
    expect(c.messages.map((m) => m.t)).toEqual(['welcome', 'response']);
    expect(r.ok).toBe(true);
    c.destroy();
  });

  it('accepts the minimal hello of protocol.md byte for byte (a writable viewer)', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const c = await RawClient.connect(sock);
    c.write(docExample('minimal-hello'));
    expect((await c.next()).t).toBe('welcome');
    const snap = await c.next();
    expect(snap.t).toBe('snapshot');
    expect(snap.reason).toBe('attach');
    expect(c.violation).toBeNull();
    c.destroy();
  });

  it('refuses another protocol version with version-mismatch naming both, then closes', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const c = await RawClient.connect(sock);
    // A version-2 hello may carry fields version 1 would reject: only `protocol` counts.
    c.send({ t: 'hello', protocol: 2, client: 'future/9', mode: 'telepathy', cols: 'wide', features: 7 });
    const e = await expectError(c, 'version-mismatch');
    expect(e.message).toMatch(/\b2\b/);
    expect(e.message).toMatch(/\b1\b/);
    expect(e.message).toContain('protocol 2');
    expect(e.message).toContain('protocol 1');
  });

  it('attach: a snapshot at N drawn at the viewer size, then outputs N+1, N+2… and every line exactly once', async () => {
    const sock = spawn('tick', TICKER);
    await waitFor(async () => (await captureText(sock)).includes('<5>'));
    const v = await RawClient.connect(sock);
    v.send({ t: 'hello', protocol: 1, client: 'conformance/1', mode: 'attach', cols: 100, rows: 30 });
    const w = await v.next();
    expect(w.t).toBe('welcome');
    expect((w.session as Msg).cols).toBe(120); // the size before this viewer's
    await waitFor(() => v.messages.filter((m) => m.t === 'output').length >= 40, 20_000);
    v.destroy();
    expect(v.violation).toBeNull();
    const types = v.messages.map((m) => m.t);
    expect(types.slice(0, 2)).toEqual(['welcome', 'snapshot']);
    const snap = v.messages[1]!;
    // The viewer's size was applied before the snapshot was taken.
    expect(snap).toMatchObject({ t: 'snapshot', reason: 'attach', cols: 100, rows: 30 });
    expect(typeof snap.data).toBe('string');
    const outputs = v.messages.slice(2).filter((m) => m.t === 'output');
    expect(v.messages.slice(2).every((m) => m.t === 'output')).toBe(true);
    let last = snap.seq as number;
    for (const o of outputs) {
      expect(o.seq).toBe(last + 1);
      expect(o.data).toBeInstanceOf(Buffer);
      last = o.seq as number;
    }
    // Snapshot + the outputs after it hold every line once, in order, from the first.
    const text = stripEscapes(snap.data as string) + Buffer.concat(outputs.map((o) => o.data as Buffer)).toString('utf8');
    const nums = [...text.matchAll(/<(\d+)>/g)].map((m) => Number(m[1]));
    expect(nums[0]).toBe(1);
    expect(nums).toEqual(nums.map((_, i) => i + 1));
    expect(nums.length).toBeGreaterThan(40);
  });

  it('control requests: status, send, capture, queue, wait, kill; an unknown op is unsupported', async () => {
    const sock = spawn('p1', ['cat', '-v'], ['--idle', '0.3']);
    const c = await control(sock);
    const st = await c.request('status');
    expect(st).toMatchObject({ t: 'response', ok: true, error: null });
    const s = st.result as Msg;
    for (const k of ['id', 'supervisorPid', 'agentPid', 'cols', 'rows', 'sizePolicy', 'viewers', 'readOnlyViewers', 'lastOutputAt', 'idleMs', 'activity', 'title', 'seq', 'ended', 'exitCode', 'exitSignal', 'queued', 'connections', 'bufferedBytes']) {
      expect(s, `status.${k}`).toHaveProperty(k);
    }
    expect(s).toMatchObject({ id: 'p1', cols: 120, rows: 40, sizePolicy: 'latest', viewers: 0, readOnlyViewers: 0, idleMs: 300, ended: false, exitCode: null, exitSignal: null, queued: 0, title: '', connections: 1, bufferedBytes: 0 });

    // send: bin, and str accepted as UTF-8.
    expect((await c.request('send', { data: Buffer.from('hello-bin\r') })).result).toEqual({ bytes: 10, task: null });
    expect((await c.request('send', { data: 'hello-str\r' })).result).toEqual({ bytes: 10, task: null });
    await waitFor(async () => {
      const r = await c.request('capture');
      const t = (r.result as Msg).text as string;
      return t.includes('hello-bin') && t.includes('hello-str');
    });
    const cap = (await c.request('capture', { lines: 1, scrollback: false, ansi: false })).result as Msg;
    expect((cap.text as string).split('\n').length).toBe(1);
    expect(cap).toMatchObject({ cols: 120, rows: 40, final: false });
    expect(cap.cursor).toEqual({ x: expect.any(Number), y: expect.any(Number) });

    // queue: added, delivered once idle, seen by a text wait.
    expect((await c.request('queue-list')).result).toEqual({ tasks: [] });
    const added = (await c.request('queue-add', { text: 'from-the-queue' })).result as Msg;
    expect(added.task).toMatchObject({ index: 1, text: 'from-the-queue', state: 'queued', deliveredAt: null });
    const seen = await c.request('wait', { until: 'text', pattern: 'from-the-\\w+', timeoutMs: 15_000 }, 20_000);
    expect(seen.result).toMatchObject({ satisfied: true, ended: false, match: 'from-the-queue' });
    const tasks = ((await c.request('queue-list')).result as Msg).tasks as Msg[];
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ index: 1, typedAt: expect.any(Number) });
    expect(['typed', 'submitted', 'started', 'done']).toContain(tasks[0]!.state);
    // wait until the task is done: its receipt comes with the answer.
    const turn = (await c.request('wait', { until: 'task', task: 1, timeoutMs: 15_000 }, 20_000)).result as Msg;
    expect(turn).toMatchObject({ satisfied: true, task: { index: 1, state: 'done', doneState: 'idle' } });
    expect((await c.request('queue-clear')).result).toEqual({ cleared: 0 });

    // wait: idle, a timeout (satisfied false, not an error), a bad pattern.
    expect((await c.request('wait', { until: 'idle', idleMs: 200, timeoutMs: 10_000 })).result).toMatchObject({ satisfied: true });
    expect((await c.request('wait', { until: 'text', pattern: 'never-there', timeoutMs: 200 })).result).toMatchObject({ satisfied: false, ended: false });
    const badRe = await c.request('wait', { until: 'text', pattern: '(' });
    expect(badRe).toMatchObject({ ok: false, result: null, error: { code: 'bad-request' } });

    // Unknown op and unknown wait condition: answered unsupported, the connection carries on.
    const unk = await c.request('teleport', { where: 'mars' });
    expect(unk).toMatchObject({ ok: false, result: null, error: { code: 'unsupported' } });
    expect((await c.request('wait', { until: 'moonrise' })).error).toMatchObject({ code: 'unsupported' });
    expect((await c.request('status')).ok).toBe(true);

    // kill answers when the agent has ended, then the supervisor closes.
    const k = await c.request('kill', { graceMs: 2000 }, 20_000);
    expect(k.ok).toBe(true);
    expect(k.result).toMatchObject({ exitCode: null, exitSignal: expect.stringMatching(/^SIG[A-Z]+$/) });
    expect(await c.waitClosed()).toBe(true);
    expect(c.violation).toBeNull();
  });

  it('pending waits are bounded: past 256 a wait is refused with busy, and the supervisor keeps answering', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const c = await control(sock, { readOnly: true });
    const n = 300;
    c.write(Buffer.concat(Array.from({ length: n }, (_, i) => frame({ t: 'request', id: 10_000 + i, op: 'wait', until: 'text', pattern: `never-${i}` }))));
    const answered = await waitFor(() => {
      const r = c.messages.filter((m) => m.t === 'response');
      return r.length >= n - 256 ? r : null;
    });
    expect(answered.every((m) => m.ok === false && (m.error as Msg).code === 'busy')).toBe(true);
    expect(answered.map((m) => m.id)).toEqual(Array.from({ length: n - 256 }, (_, i) => 10_256 + i));
    const other = await control(sock);
    expect((await other.request('status')).ok).toBe(true);
    // A wait from elsewhere is refused too while they pend; closing frees them.
    expect((await other.request('wait', { until: 'exit', timeoutMs: 100 })).error).toMatchObject({ code: 'busy' });
    c.destroy();
    await waitFor(async () => (await other.request('wait', { until: 'text', pattern: 'x', timeoutMs: 50 })).ok === true);
    other.destroy();
  });

  it('ignores unknown message types, before and after the hello', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const c = await RawClient.connect(sock);
    c.send({ t: 'from-the-future', x: 1, nested: { a: [1, 2, 3] } });
    c.send({ t: 'hello', protocol: 1, mode: 'control', unknownField: 'ignored' });
    expect((await c.next()).t).toBe('welcome');
    c.send({ t: 'telemetry', data: Buffer.alloc(1000) });
    c.send({ t: 'request', id: 7, op: 'status', extra: true });
    const r = await c.next();
    expect(r).toMatchObject({ t: 'response', id: 7, ok: true });
    expect(c.closed).toBe(false);
    c.destroy();
  });

  it('garbage msgpack: error malformed and close, while another viewer and the agent carry on', async () => {
    const sock = spawn('tick', TICKER);
    const viewer = await RawClient.hello(sock, { cols: 120, rows: 40 });
    await viewer.next((m) => m.t === 'snapshot');
    const outputsNow = () => viewer.messages.filter((m) => m.t === 'output').length;
    await waitFor(() => outputsNow() >= 3);
    // Truncated array, value plus junk, unknown extension type, truncated string.
    for (const hex of ['dcffff', '6e6f74206d73677061636b', 'd40500', '82a174a5696e707574a464617461d9ff41']) {
      const payload = Buffer.from(hex, 'hex');
      // Before the hello and after it.
      const pre = await RawClient.connect(sock);
      pre.write(frameOf(payload));
      expect((await expectError(pre, 'malformed')).message).toContain('msgpack');
      const post = await RawClient.hello(sock, { mode: 'control' });
      post.write(frameOf(payload));
      await expectError(post, 'malformed');
    }
    // Trailing bytes after the one value are malformed too.
    const trailing = await RawClient.connect(sock);
    trailing.write(frameOf(Buffer.concat([mp({ t: 'hello', protocol: 1 }), Buffer.from([0xc0])])));
    await expectError(trailing, 'malformed');
    // A payload that is msgpack but not a message map.
    const notMap = await RawClient.connect(sock);
    notMap.send([1, 2, 3]);
    await expectError(notMap, 'bad-message');

    const before = outputsNow();
    await waitFor(() => outputsNow() >= before + 10);
    expect(viewer.closed).toBe(false);
    const outs = viewer.messages.filter((m) => m.t === 'output');
    outs.forEach((o, i) => i > 0 && expect(o.seq).toBe((outs[i - 1]!.seq as number) + 1));
    const c = await control(sock);
    expect((await c.request('status')).result).toMatchObject({ ended: false, viewers: 1 });
    c.destroy();
    viewer.destroy();
  });

  it('oversized length header: frame-too-large at once and close, without the body being read', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const header = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    // After the hello the limit is 16 MiB; only the 4 header bytes are ever sent.
    const post = await RawClient.hello(sock, { mode: 'control' });
    post.write(header(16 * 1024 * 1024 + 1));
    expect((await expectError(post, 'frame-too-large')).message).toContain(String(16 * 1024 * 1024));
    const huge = await RawClient.hello(sock, { mode: 'control' });
    huge.write(header(0xffffffff));
    await expectError(huge, 'frame-too-large');
    // Before the hello the limit is 64 KiB.
    const pre = await RawClient.connect(sock);
    pre.write(header(64 * 1024 + 1));
    expect((await expectError(pre, 'frame-too-large')).message).toContain(String(64 * 1024));
    // A frame of exactly 16 MiB is accepted (an unknown type: ignored).
    const max = await RawClient.hello(sock, { mode: 'control' });
    const pad = 16 * 1024 * 1024 - 18; // 18 bytes: fixmap, "t", "x-pad", "pad", bin32 header
    const payload = mp({ t: 'x-pad', pad: Buffer.alloc(pad, 0x61) });
    expect(payload.length).toBe(16 * 1024 * 1024);
    max.write(frameOf(payload));
    expect((await max.request('status', {}, 30_000)).ok).toBe(true);
    max.destroy();
  });

  it('a zero-length frame is frame-empty and closes', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const pre = await RawClient.connect(sock);
    pre.write(Buffer.alloc(4));
    await expectError(pre, 'frame-empty');
    const post = await RawClient.hello(sock);
    post.write(Buffer.alloc(4));
    await expectError(post, 'frame-empty');
  });

  it('wrong field types are bad-message naming the field, then close', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const cases: Array<[Msg, string]> = [
      [{ t: 'resize', cols: 'x', rows: 24 }, 'resize.cols'],
      [{ t: 'resize', cols: 0, rows: 24 }, 'resize.cols'],
      [{ t: 'resize', cols: 80, rows: 5000 }, 'resize.rows'],
      [{ t: 'input' }, 'input.data'],
      [{ t: 'input', data: 12 }, 'input.data'],
      [{ t: 'request', id: -1, op: 'status' }, 'request.id'],
      [{ t: 'request', id: 1, op: 'capture', lines: 'all' }, 'request.lines'],
      [{ t: 'request', id: 1, op: 42 }, 'request.op'],
      // Past 2^31-1 ms a timer would fire at once: refused rather than spinning.
      [{ t: 'request', id: 1, op: 'wait', until: 'idle', idleMs: 2 ** 31 }, 'request.idleMs'],
      [{ t: 'request', id: 1, op: 'wait', until: 'exit', timeoutMs: 2 ** 32 - 1 }, 'request.timeoutMs'],
      [{ t: 'hello', protocol: 1 }, 'hello was already received'],
    ];
    for (const [msg, text] of cases) {
      const c = await RawClient.hello(sock);
      c.send(msg);
      expect((await expectError(c, 'bad-message')).message).toContain(text);
    }
    const badHello = await RawClient.connect(sock);
    badHello.send({ t: 'hello', protocol: 'one' });
    expect((await expectError(badHello, 'bad-message')).message).toContain('hello.protocol');
    const c = await control(sock);
    c.send({ t: 'resize', cols: 80, rows: 24 });
    await expectError(c, 'bad-message'); // resize needs an attach connection
  });

  it('a first message other than hello is hello-required, and nothing reaches the agent', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const c = await RawClient.connect(sock);
    c.send({ t: 'input', data: Buffer.from('sneaky-input\r') });
    await expectError(c, 'hello-required');
    const r = await RawClient.connect(sock);
    r.send({ t: 'request', id: 1, op: 'send', data: 'sneaky-send\r' });
    await expectError(r, 'hello-required');
    const text = await barrier(sock, 'after-the-refusals');
    expect(text).not.toContain('sneaky');
  });

  it('read-only connections cannot type, resize or write by request; the supervisor enforces it', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const ro = await RawClient.hello(sock, { readOnly: true, cols: 50, rows: 10 });
    expect((ro.messages[0]!.session as Msg).readOnly).toBe(true);
    const snap = await ro.next((m) => m.t === 'snapshot');
    expect(snap).toMatchObject({ cols: 120, rows: 40 }); // its size is ignored
    expect(ro.messages.some((m) => m.t === 'size')).toBe(false);
    ro.send({ t: 'input', data: Buffer.from('ro-typed\r') });
    expect((await ro.next((m) => m.t === 'error')).code).toBe('read-only');
    ro.send({ t: 'resize', cols: 60, rows: 20 });
    expect((await ro.next((m) => m.t === 'error')).code).toBe('read-only');
    for (const op of ['send', 'kill', 'queue-add', 'queue-clear']) {
      const r = await ro.request(op, { data: 'ro-sent\r', text: 'ro-queued' });
      expect(r, op).toMatchObject({ ok: false, error: { code: 'read-only' } });
    }
    // Still connected, and reading is allowed.
    expect(ro.closed).toBe(false);
    const st = await ro.request('status');
    expect(st.result).toMatchObject({ viewers: 1, readOnlyViewers: 1, cols: 120, rows: 40, queued: 0 });
    // A read-only control connection is refused input too.
    const roc = await control(sock, { readOnly: true });
    roc.send({ t: 'input', data: 'ro-control\r' });
    expect((await roc.next((m) => m.t === 'error')).code).toBe('read-only');
    const text = await barrier(sock, 'written-by-a-writer');
    expect(text).not.toContain('ro-');
    // The read-only viewer sees the writer's text live.
    await ro.next((m) => m.t === 'output' && (m.data as Buffer).toString().includes('written-by-a-writer'));
    ro.destroy();
    roc.destroy();
  });

  it('detach closes only that viewer; at the end viewers get exit, then the close', async () => {
    const sock = spawn('p1', ['cat', '-v']);
    const a = await RawClient.hello(sock, { cols: 120, rows: 40 });
    await a.next((m) => m.t === 'snapshot');
    a.send({ t: 'detach' });
    expect(await a.waitClosed()).toBe(true);
    const v = await RawClient.hello(sock, { cols: 120, rows: 40 });
    await v.next((m) => m.t === 'snapshot');
    v.send({ t: 'input', data: Buffer.from('last words\r') });
    await v.next((m) => m.t === 'output' && (m.data as Buffer).toString().includes('last words'));
    v.send({ t: 'input', data: Buffer.from([0x04]) }); // ^D: cat reads end of file and exits 0
    const exit = await v.next((m) => m.t === 'exit', 15_000);
    expect(exit).toEqual({ t: 'exit', code: 0, signal: null });
    expect(await v.waitClosed()).toBe(true);
    expect(v.violation).toBeNull();
  });
});
