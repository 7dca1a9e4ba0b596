import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type * as Api from '../../src/client';
import { ROOT, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';
import { WebProcess, signIn } from '../helpers/web';

// `symposium-mcp web` at the HTTP and WebSocket level, without a browser: what it serves
// and with which headers, who it refuses (Host, Origin, token, cookie), read-only
// enforcement, message checks, flow control, the token file, and Ctrl-C.

const sandbox = sandboxPerTest({ PS1: 'P$ ' });
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require(path.join(ROOT, 'dist', 'client', 'index.js')) as typeof Api;

async function serve(sb: Sandbox, args: string[] = []): Promise<WebProcess> {
  const web = await WebProcess.start(sb, args);
  cleanups.push(() => web.stop());
  return web;
}

async function agent(sb: Sandbox, id: string, opts: Partial<Api.SpawnOptions> = {}): Promise<Api.SymposiumClient> {
  const client = new lib.SymposiumClient({ env: sb.env });
  await client.spawn({ id, workdir: sb.work, command: ['bash', '--norc', '--noprofile'], ...opts });
  return client;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request (fetch will not let us set Host). */
function request(web: WebProcess, opts: { method?: string; path?: string; headers?: Record<string, string> }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: web.port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: { Host: web.host, ...opts.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

type Message = { t: string } & Record<string, unknown>;

/** A page's WebSocket, as a test drives it. */
class Page {
  readonly messages: Message[] = [];
  chars = 0;
  acking = true;
  closed: number | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Message;
      this.messages.push(m);
      if ((m.t === 'o' || m.t === 'screen') && typeof m.d === 'string') {
        this.chars += m.d.length;
        if (this.acking) this.ack();
      }
    });
    ws.on('close', (code) => (this.closed = code));
  }

  /** Resolves open, or rejects with the HTTP status the upgrade got. */
  static connect(web: WebProcess, headers: Record<string, string>): Promise<Page> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${web.host}/ws`, { headers });
      const page = new Page(ws);
      ws.on('open', () => resolve(page));
      ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.on('error', (err) => reject(err));
    });
  }

  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }

  ack(): void {
    this.send({ t: 'ack', n: this.chars });
  }

  of(t: string): Message[] {
    return this.messages.filter((m) => m.t === t);
  }

  async next(t: string, after = 0, pred: (m: Message) => boolean = () => true): Promise<Message> {
    return waitFor(() => this.messages.slice(after).find((m) => m.t === t && pred(m)), 20_000);
  }

  close(): void {
    this.ws.terminate();
  }
}

async function page(web: WebProcess): Promise<Page> {
  const p = await Page.connect(web, { Origin: web.origin, Cookie: await signIn(web) });
  cleanups.push(() => p.close());
  await p.next('hello');
  return p;
}

describe('symposium-mcp web: HTTP and WebSocket', () => {
  it('serves the page and xterm.js from the package, every answer under a strict policy, nothing else', async () => {
    const sb = sandbox();
    const web = await serve(sb);
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    expect(web.stdout).toContain('Read-only: start with --write');

    const index = await request(web, {});
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.body).toContain('<script type="module" src="/app.js"></script>');
    const csp = String(index.headers['content-security-policy']);
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", `connect-src 'self' ws://127.0.0.1:${web.port};`, "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]) {
      expect(csp).toContain(d);
    }
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    expect(index.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
    expect(index.headers['access-control-allow-origin']).toBeUndefined();

    const xterm = await request(web, { path: '/vendor/xterm.mjs' });
    expect(xterm.status).toBe(200);
    expect(xterm.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(xterm.body).toMatch(/export\s*\{[^}]*Terminal/);
    expect(xterm.body).not.toContain('sourceMappingURL');
    expect(xterm.headers['content-security-policy']).toBe(csp);
    for (const f of ['/app.js', '/app.css', '/terminal-view.js', '/vendor/xterm.css', '/vendor/addon-fit.mjs', '/vendor/addon-unicode11.mjs']) {
      expect((await request(web, { path: f })).status, f).toBe(200);
    }
    for (const f of ['/../package.json', '/web/app.js', '/vendor/../../package.json', '/%2e%2e/package.json', '/node_modules/ws/package.json']) {
      expect((await request(web, { path: f })).status, f).toBe(404);
    }
    expect((await request(web, { method: 'POST' })).status).toBe(405);
    const preflight = await request(web, { method: 'OPTIONS', path: '/session', headers: { Origin: 'http://127.0.0.1:1', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(405);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers only requests that name its own host (DNS rebinding), on any port (an SSH tunnel from another one)', async () => {
    const sb = sandbox();
    const web = await serve(sb);
    expect((await request(web, { headers: { Host: `localhost:${web.port}` } })).status).toBe(200);
    for (const host of [`evil.example:${web.port}`, `127.0.0.1.evil.example:${web.port}`, `localhost:${web.port}:1`]) {
      expect((await request(web, { headers: { Host: host } })).status, host).toBe(421);
    }
    const cookie = await signIn(web);
    await expect(Page.connect(web, { Host: `evil.example:${web.port}`, Origin: `http://evil.example:${web.port}`, Cookie: cookie })).rejects.toThrow('HTTP 421');
    // `ssh -L 9000:127.0.0.1:PORT`: the page is http://127.0.0.1:9000, and says so.
    const tunnel = await request(web, { headers: { Host: '127.0.0.1:9000' } });
    expect(tunnel.status).toBe(200);
    expect(tunnel.headers['content-security-policy']).toContain("connect-src 'self' ws://127.0.0.1:9000;");
    const p = await Page.connect(web, { Host: '127.0.0.1:9000', Origin: 'http://127.0.0.1:9000', Cookie: cookie });
    cleanups.push(() => p.close());
    await p.next('hello');
    // …but a page of port 9000 cannot reach us by our own port.
    await expect(Page.connect(web, { Origin: 'http://127.0.0.1:9000', Cookie: cookie })).rejects.toThrow('HTTP 403');
  });

  it('trades the token, from our own origin only, for a session cookie (HttpOnly, SameSite=Strict, named for the port)', async () => {
    const sb = sandbox();
    const web = await serve(sb);
    const post = (headers: Record<string, string>) => request(web, { method: 'POST', path: '/session', headers });
    expect((await post({ Origin: web.origin })).status).toBe(403);
    expect((await post({ Origin: web.origin, 'X-Symposium-Token': 'wrong' })).status).toBe(403);
    expect((await post({ Origin: web.origin, 'X-Symposium-Token': `${web.token}x` })).status).toBe(403);
    expect((await post({ Origin: web.origin, 'X-Symposium-Token': web.token.slice(0, -1) })).status).toBe(403);
    expect((await post({ 'X-Symposium-Token': web.token })).status).toBe(403);
    expect((await post({ Origin: `http://127.0.0.1:${web.port + 1}`, 'X-Symposium-Token': web.token })).status).toBe(403);
    expect((await post({ Origin: 'null', 'X-Symposium-Token': web.token })).status).toBe(403);
    // The token in a query string is no way in.
    expect((await request(web, { method: 'POST', path: `/session?token=${web.token}`, headers: { Origin: web.origin } })).status).toBe(403);

    const ok = await post({ Origin: web.origin, 'X-Symposium-Token': web.token });
    expect(ok.status).toBe(204);
    const set = String(ok.headers['set-cookie']);
    expect(set).toMatch(new RegExp(`^symposium_${web.port}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/$`));
    const cookie = set.split(';')[0]!;
    expect(cookie).not.toContain(web.token);
    expect((await request(web, { path: '/session', headers: { Cookie: cookie } })).status).toBe(204);
    expect((await request(web, { path: '/session' })).status).toBe(401);
    expect((await request(web, { path: '/session', headers: { Cookie: `symposium_${web.port}=${web.token}` } })).status).toBe(401);
    expect(web.stderr).toContain('refused a sign-in with a wrong token');
  });

  it('opens a WebSocket only for a signed-in page of its own origin (cross-site WebSocket hijacking)', async () => {
    const sb = sandbox();
    const web = await serve(sb);
    const cookie = await signIn(web);
    await expect(Page.connect(web, { Origin: web.origin })).rejects.toThrow('HTTP 401');
    await expect(Page.connect(web, { Origin: web.origin, Cookie: `symposium_${web.port}=forged` })).rejects.toThrow('HTTP 401');
    await expect(Page.connect(web, { Origin: web.origin, Cookie: `symposium_${web.port + 1}=${cookie.split('=')[1]}` })).rejects.toThrow('HTTP 401');
    // Our cookie reaches us from a page on any port of 127.0.0.1: its Origin does not.
    for (const origin of [`http://127.0.0.1:${web.port + 1}`, `http://localhost:${web.port + 1}`, 'null', `https://127.0.0.1:${web.port}`, 'http://evil.example']) {
      await expect(Page.connect(web, { Origin: origin, Cookie: cookie }), origin).rejects.toThrow('HTTP 403');
    }
    await expect(Page.connect(web, { Cookie: cookie })).rejects.toThrow('HTTP 403');
    const p = await Page.connect(web, { Origin: web.origin, Cookie: cookie });
    cleanups.push(() => p.close());
    expect(await p.next('hello')).toMatchObject({ write: false });
    await waitFor(() => /refused a page's connection \(foreign origin\) from 127\.0\.0\.1 \(origin "http:\/\/evil\.example"/.test(web.stderr));
  });

  it('read-only unless --write: keys, sizes, lines and tasks from a page never reach the agent', async () => {
    const sb = sandbox();
    const client = await agent(sb, 'ro', { cols: 90, rows: 25 });
    const web = await serve(sb);
    const p = await page(web);
    p.send({ t: 'open', v: 1, id: 'ro' });
    await p.next('screen');
    const before = (await client.capture('ro')).text;
    p.send({ t: 'type', cols: 40, rows: 10 });
    p.send({ t: 'input', d: 'echo TYPED\r' });
    p.send({ t: 'resize', cols: 40, rows: 10 });
    p.send({ t: 'send', ref: 1, id: 'ro', text: 'echo SENT', keys: [], enter: true });
    p.send({ t: 'queue', ref: 2, id: 'ro', text: 'echo QUEUED' });
    await p.next('done', 0, (m) => m.ref === 2);
    expect(p.of('done')).toEqual([
      { t: 'done', ref: 1, ok: false, message: 'read-only: this server was started without --write' },
      { t: 'done', ref: 2, ok: false, message: 'read-only: this server was started without --write' },
    ]);
    expect(p.of('error').map((m) => m.message)).toEqual(['read-only: this server was started without --write', 'read-only: this server was started without --write']);
    await client.send('ro', { text: 'echo marker', enter: true });
    await client.wait('ro', { until: 'text', pattern: /marker\nP\$/ }, { timeout: 10_000 });
    const after = (await client.capture('ro')).text;
    expect(after).toBe(`${before} echo marker\nmarker\nP$`);
    // (only the marker sent from here, a task of its own: nothing the page queued)
    expect((await client.tasks('ro')).map((t) => [t.text, t.sent])).toEqual([['echo marker', true]]);
    expect(await client.status('ro')).toMatchObject({ cols: 90, rows: 25, viewers: 1 });
  });

  it('with --write: a page takes the keyboard (its size), types, sends and queues; a page that only watches never resizes', async () => {
    const sb = sandbox();
    const client = await agent(sb, 'rw', { cols: 90, rows: 25, idleMs: 500 });
    const web = await serve(sb, ['--write']);
    expect(web.stdout).toContain('Writable: the page can type');
    const watcher = await page(web);
    watcher.send({ t: 'open', v: 1, id: 'rw' });
    await watcher.next('screen');
    expect(await client.status('rw')).toMatchObject({ cols: 90, rows: 25 });

    const typist = await page(web);
    typist.send({ t: 'open', v: 7, id: 'rw' });
    await typist.next('screen');
    const mark = typist.messages.length;
    // Keys sent at once with the request for the keyboard are held until the writable attach is live.
    typist.send({ t: 'type', cols: 70, rows: 20 });
    typist.send({ t: 'input', d: 'echo typed-$((6*7))\r' });
    expect(await typist.next('view', mark)).toMatchObject({ v: 7, id: 'rw', mode: 'live', typing: true });
    await client.wait('rw', { until: 'text', pattern: /typed-42\nP\$/ }, { timeout: 10_000 });
    await waitFor(async () => (await client.status('rw')).cols === 70);
    expect(await client.status('rw')).toMatchObject({ cols: 70, rows: 20 });
    // Every view of it hears of the new size.
    await watcher.next('size', 0, (m) => m.cols === 70);
    typist.send({ t: 'resize', cols: 60, rows: 18 });
    await waitFor(async () => (await client.status('rw')).cols === 60);

    typist.send({ t: 'send', ref: 1, id: 'rw', text: 'echo sent-line', keys: [], enter: true });
    expect(await typist.next('done', 0, (m) => m.ref === 1)).toMatchObject({ ok: true, message: 'sent' });
    await client.wait('rw', { until: 'text', pattern: /sent-line\nP\$/ }, { timeout: 10_000 });
    typist.send({ t: 'send', ref: 2, id: 'rw', text: '', keys: ['No-Such-Key'], enter: false });
    expect(await typist.next('done', 0, (m) => m.ref === 2)).toMatchObject({ ok: false });
    typist.send({ t: 'queue', ref: 3, id: 'rw', text: 'echo from-queue' });
    expect(await typist.next('done', 0, (m) => m.ref === 3)).toMatchObject({ ok: true, message: expect.stringMatching(/^queued as task \d+$/) });
    await client.wait('rw', { until: 'text', pattern: /from-queue\nP\$/ }, { timeout: 20_000 });

    // Giving the keyboard back: read-only again, the size goes back to nobody's.
    const back = typist.messages.length;
    typist.send({ t: 'watch' });
    expect(await typist.next('view', back)).toMatchObject({ typing: false });
    typist.send({ t: 'input', d: 'echo NOT-TYPED\r' });
    await client.send('rw', { text: 'echo marker', enter: true });
    await client.wait('rw', { until: 'text', pattern: /marker\nP\$/ }, { timeout: 10_000 });
    expect((await client.capture('rw')).text).not.toContain('NOT-TYPED');
    expect((await client.status('rw')).viewers).toBe(2);
  });

  it('checks every message: bad JSON, unknown types, impossible acks and ids are answered, the connection goes on', async () => {
    const sb = sandbox();
    await agent(sb, 'm');
    const web = await serve(sb);
    const p = await page(web);
    p.acking = false;
    p.ws.send('not json');
    p.send({ t: 'bogus' });
    p.send({ t: 'ack', n: 5 });
    p.send({ t: 'open', v: 1, id: '../etc' });
    p.send({ t: 'type', cols: 0, rows: 10 });
    p.ws.send(Buffer.from([1, 2, 3]));
    p.send({ t: 'open', v: 2, id: 'nobody' });
    await waitFor(() => p.of('error').length === 7);
    expect(p.of('error').map((m) => m.message)).toEqual([
      'bad message: not JSON',
      'bad message: unknown message type "bogus"',
      'ack 5 is not a count that was sent',
      'bad message: open: id must be an agent id',
      'bad message: type: cols must be 1 to 1000',
      'binary frames are not part of this protocol',
      'no agent session nobody',
    ]);
    p.send({ t: 'open', v: 3, id: 'm' });
    expect(await p.next('screen')).toMatchObject({ v: 3, cols: 120, rows: 40 });
    expect(p.closed).toBeNull();
  });

  it('flow control: a page that stops acknowledging gets no more than the bound while the agent floods on, then one fresh screen', async () => {
    const sb = sandbox();
    const client = await agent(sb, 'f', { cols: 100, rows: 30 });
    const web = await serve(sb);
    const slow = await page(web);
    slow.send({ t: 'open', v: 1, id: 'f' });
    await slow.next('screen');
    slow.acking = false;
    const held = slow.chars;
    // 8 MB through the pty; the agent finishes though this page acknowledges nothing.
    await client.send('f', { text: "seq -f 'line %07.0f ...................................................' 1 120000; echo FLOOD-DONE", enter: true });
    await client.wait('f', { until: 'text', pattern: /FLOOD-DONE\nP\$/ }, { timeout: 60_000 });
    const got = slow.chars - held;
    expect(got).toBeGreaterThan(100_000);
    expect(got).toBeLessThan(100_000 + 70_000); // the bound, plus at most one chunk
    const screens = slow.of('screen').length;
    slow.acking = true;
    slow.ack();
    // Caught up: one fresh screen instead of the backlog, equal to the agent's.
    const fresh = await waitFor(() => slow.of('screen')[screens]);
    expect(fresh.d).toContain('FLOOD-DONE');
    expect(slow.chars - held - got).toBeLessThan(2_000_000);
    expect(web.stderr).not.toContain('page left');
    slow.close();
    await waitFor(() => /page left \(0 open\): sent \d+ chars, dropped \d+ it could not keep up with, 1 fresh screens \(the slowest took \d+ ms\)/.test(web.stderr));
  });

  it('keeps its token in --token-file: made 0600 when missing, read when present, refused when others can read it or it is short', async () => {
    const sb = sandbox();
    const file = path.join(sb.dir, 'web-token');
    const first = await serve(sb, ['--token-file', file]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${first.token}\n`);
    expect(first.stdout).toContain(`(token written to ${file})`);
    expect(await first.stop()).toBe(0);
    const second = await serve(sb, ['--token-file', file]);
    expect(second.token).toBe(first.token);
    expect(second.stdout).toContain(`(token from ${file})`);
    await second.stop();

    fs.chmodSync(file, 0o640);
    let r = await sb.runAsync(['web', '--port', '0', '--token-file', file]);
    expect(r).toMatchObject({ code: 1, stderr: `Error: Token file ${file} can be read by other users (mode 640): chmod 600 ${file}\n` });
    fs.writeFileSync(file, 'short\n', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    r = await sb.runAsync(['web', '--port', '0', '--token-file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/must hold one token of at least 16/);
    r = await sb.runAsync(['web', '--port', '99999']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('a port number from 0 (any free port) to 65535');
  });

  it('on a non-loopback address it warns, still wants the token, and answers that address as its host', async () => {
    const address = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!address) return; // a machine with loopback only
    const sb = sandbox();
    const web = await serve(sb, ['--bind', address]);
    expect(web.url).toMatch(new RegExp(`^http://${address.replace(/\./g, '\\.')}:\\d+/#token=`));
    await waitFor(() => web.stderr.includes(`Warning: listening on ${address}, reachable from the network in plain HTTP`));
    const answer = await new Promise<number>((resolve, reject) => {
      http.get({ host: address, port: web.port, path: '/session' }, (res) => resolve(res.statusCode ?? 0)).on('error', reject);
    });
    expect(answer).toBe(401);
  });

  it('Ctrl-C ends every page\'s stream and the server, exit 0', async () => {
    const sb = sandbox();
    const client = await agent(sb, 'c');
    const web = await WebProcess.start(sb);
    cleanups.push(() => web.stop());
    const p = await page(web);
    p.send({ t: 'open', v: 1, id: 'c' });
    await p.next('screen');
    expect((await client.status('c')).viewers).toBe(1);
    expect(await web.stop()).toBe(0);
    await waitFor(() => p.closed !== null);
    expect(p.closed).toBe(1001);
    await waitFor(async () => (await client.status('c')).viewers === 0);
  });
});
