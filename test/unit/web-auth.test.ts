import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Auth, cookieValue, sameSecret } from '../../src/web/auth';
import { hostName, isLoopback, reachableNames, urlHost } from '../../src/web/bind-address';
import { obtainToken } from '../../src/web/token-file';

// Who the web server lets in: secrets compared in constant time, the cookie found by name,
// the Host and Origin checks, the names each bind address answers to, and the token file.

function req(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe('web auth', () => {
  it('compares secrets whatever their lengths, without throwing', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('', 'abc')).toBe(false);
    expect(sameSecret('a'.repeat(10_000), 'abc')).toBe(false);
  });

  it('finds its cookie by exact name among others', () => {
    const r = req({ cookie: 'symposium_80=x; symposium_8080=right; other=1' });
    expect(cookieValue(r, 'symposium_8080')).toBe('right');
    expect(cookieValue(r, 'symposium_8')).toBeUndefined();
    expect(cookieValue(req({}), 'symposium_8080')).toBeUndefined();
  });

  it('signs in with the token only, gives a cookie that is not the token, and knows it again', () => {
    const auth = new Auth('the-token-of-this-run', 8080, new Set(reachableNames('127.0.0.1')));
    expect(auth.tokenOk('the-token-of-this-run')).toBe(true);
    for (const t of [undefined, '', 'the-token-of-this-ru', 'the-token-of-this-runx']) expect(auth.tokenOk(t)).toBe(false);
    const set = auth.newSession();
    expect(set).toMatch(/^symposium_8080=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
    const cookie = set.split(';')[0]!;
    expect(auth.signedIn(req({ cookie }))).toBe(true);
    expect(auth.signedIn(req({ cookie: 'symposium_8080=the-token-of-this-run' }))).toBe(false);
    expect(auth.signedIn(req({ cookie: cookie.replace('8080', '8081') }))).toBe(false);
    expect(auth.signedIn(req({}))).toBe(false);
  });

  it('checks the Host against its names (any port: a tunnel may forward another) and the Origin against the very host asked', () => {
    const auth = new Auth('t'.repeat(20), 8080, new Set(reachableNames('127.0.0.1')));
    for (const host of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST:8080', '[::1]:8080', '127.0.0.1:9000', '127.0.0.1']) expect(auth.hostOk(req({ host })), host).toBe(true);
    for (const host of ['evil.example:8080', '127.0.0.1.evil.example:8080', '127.0.0.1:80:80', '127.0.0.1:x', '[::2]:8080', '']) expect(auth.hostOk(req({ host })), host).toBe(false);
    expect(auth.hostOk(req({}))).toBe(false);
    expect(auth.originOk(req({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' }))).toBe(true);
    expect(auth.originOk(req({ host: 'localhost:8080', origin: 'http://localhost:8080' }))).toBe(true);
    // Through a tunnel from local port 9000: the page's origin and the host it asks agree.
    expect(auth.originOk(req({ host: '127.0.0.1:9000', origin: 'http://127.0.0.1:9000' }))).toBe(true);
    for (const origin of ['http://localhost:8080', 'http://127.0.0.1:8081', 'https://127.0.0.1:8080', 'null', 'http://127.0.0.1:8080/']) {
      expect(auth.originOk(req({ host: '127.0.0.1:8080', origin })), origin).toBe(false);
    }
    expect(auth.originOk(req({ host: '127.0.0.1:8080' }))).toBe(false);
    expect(auth.originOk(req({ host: 'evil.example:8080', origin: 'http://evil.example:8080' }))).toBe(false);
  });

  it('knows loopback addresses and the names each bind address answers to', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'example.com']) expect(isLoopback(a), a).toBe(false);
    expect(urlHost('::1')).toBe('[::1]');
    expect(reachableNames('192.0.2.7').sort()).toEqual(['127.0.0.1', '192.0.2.7', '[::1]', 'localhost']);
    expect(reachableNames('::1').sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    const any = reachableNames('0.0.0.0');
    expect(any).toContain(os.hostname().toLowerCase());
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') expect(any).toContain(a.address);
    expect(hostName('[::1]:80')).toBe('[::1]');
    expect(hostName('Example.COM')).toBe('example.com');
    expect(hostName('a:b:c')).toBeNull();
  });
});

describe('the token file', () => {
  let dir = '';
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('is made 0600 with a new token when missing, read when present; a new token each run without one', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-token-'));
    const file = path.join(dir, 'token');
    const made = obtainToken(file);
    expect(made.origin).toBe('created');
    expect(made.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(obtainToken(file)).toEqual({ value: made.value, origin: 'file' });
    const a = obtainToken(undefined);
    expect(a.origin).toBe('generated');
    expect(obtainToken(undefined).value).not.toBe(a.value);
  });

  it('is refused when others may read it, when it is too short or holds what a header cannot carry', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-token-'));
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'a-long-enough-token-value\n', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(() => obtainToken(file)).toThrow(/can be read by other users \(mode 644\): chmod 600/);
    fs.chmodSync(file, 0o600);
    expect(obtainToken(file).value).toBe('a-long-enough-token-value');
    for (const bad of ['short', 'has a space in the middle of it', 'two\nlines-of-token-text']) {
      fs.writeFileSync(file, bad);
      expect(() => obtainToken(file), bad).toThrow(/must hold one token of at least 16/);
    }
    expect(() => obtainToken(dir)).toThrow(/is not a regular file/);
  });
});
