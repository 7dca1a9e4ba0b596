import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HELLO, LOG_NAME, MAX_REQUEST, SOCKET_NAME, STARTING_NAME, decodeRequest, encodeRequest } from '../../src/standby/wire';

// The standby's request (src/standby/wire.ts), as native/spawn.c writes it.

const body = (strings: string[]): Buffer => encodeRequest(strings).subarray(4);
const spawnOf = (args: string[], env: string[]): string[] => [HELLO, '/opt/app/dist', 'spawn', '/home/u/w', '18', '120', '40', '/opt/app/bin/symposium-mcp', String(args.length), ...args, String(env.length), ...env];

describe('standby request', () => {
  it('the length first, big-endian, then NUL-ended strings', () => {
    const buf = encodeRequest(['ab', 'é']);
    expect(buf.readUInt32BE(0)).toBe(buf.length - 4);
    expect(buf.subarray(4).toString('utf8')).toBe('ab\0é\0');
  });

  it('decodes a spawn: arguments and environment as given, the first of a name twice wins, an entry without a name is skipped', () => {
    const req = decodeRequest(body(spawnOf(['agent', 'spawn', '--', 'sh', '-c', 'a=b; echo "$a"', ''], ['PATH=/bin', 'A=1=2', 'A=3', 'noequals', '=x', 'EMPTY='])));
    expect(req).toEqual({
      kind: 'spawn',
      dist: '/opt/app/dist',
      cwd: '/home/u/w',
      umask: 18,
      size: { cols: 120, rows: 40 },
      bin: '/opt/app/bin/symposium-mcp',
      args: ['agent', 'spawn', '--', 'sh', '-c', 'a=b; echo "$a"', ''],
      env: { PATH: '/bin', A: '1=2', EMPTY: '' },
    });
    // `__proto__` is a name like any other, not the object's prototype.
    const proto = decodeRequest(body(spawnOf([], ['__proto__=x'])));
    expect('env' in proto && Object.keys(proto.env)).toEqual(['__proto__']);
  });

  it('decodes a run (a command that ends) as a spawn, but for its kind', () => {
    const strings = spawnOf(['agent', 'list', '--json'], ['PATH=/bin']);
    strings[2] = 'run';
    expect(decodeRequest(body(strings))).toMatchObject({ kind: 'run', args: ['agent', 'list', '--json'], env: { PATH: '/bin' } });
    strings[3] = 'relative';
    expect(decodeRequest(body(strings))).toEqual({ error: 'a malformed run request' });
  });

  it('no terminal: size null; stop: the dist only', () => {
    const s = spawnOf([], []);
    s[5] = '0';
    s[6] = '0';
    expect(decodeRequest(body(s))).toMatchObject({ size: null });
    expect(decodeRequest(body([HELLO, '/d', 'stop']))).toEqual({ kind: 'stop', dist: '/d' });
  });

  it('refuses what is not exactly a request', () => {
    const good = spawnOf(['a'], ['X=1']);
    const cases: Array<[string[] | Buffer, RegExp]> = [
      [Buffer.from('no nul'), /NUL/],
      [['symposium-standby 1', '/d', 'stop'], /another version/],
      [[HELLO, 'relative', 'stop'], /dist/],
      [[HELLO, '/d', 'stop', 'more'], /more after stop/],
      [[HELLO, '/d', 'launch'], /unknown kind/],
      [good.map((v, i) => (i === 3 ? 'relative/cwd' : v)), /malformed spawn/],
      [good.map((v, i) => (i === 4 ? '0o22' : v)), /malformed spawn/],
      [good.map((v, i) => (i === 4 ? '512' : v)), /malformed spawn/],
      [good.map((v, i) => (i === 8 ? '5' : v)), /argument list/],
      [good.map((v, i) => (i === 8 ? '-1' : v)), /argument list/],
      [[...good, 'Y=2'], /environment/],
      [good.slice(0, -1), /environment/],
    ];
    for (const [input, why] of cases) {
      const r = decodeRequest(Buffer.isBuffer(input) ? input : body(input));
      expect(r, JSON.stringify(input)).toHaveProperty('error');
      expect((r as { error: string }).error).toMatch(why);
    }
  });

  it("native/spawn.c's names and limit are these", () => {
    const c = fs.readFileSync(path.join(__dirname, '..', '..', 'native', 'spawn.c'), 'utf8');
    const define = (name: string): string => c.match(new RegExp(`#define ${name} (.+?)\\s*(?:/\\*|$)`, 'm'))?.[1] ?? '';
    const [, base, shift] = define('STANDBY_MAX_REQUEST').match(/^\((\d+)u << (\d+)\)$/) ?? [];
    expect(Number(base) * 2 ** Number(shift)).toBe(MAX_REQUEST);
    expect(define('STANDBY_HELLO')).toBe(JSON.stringify(HELLO));
    expect(define('STANDBY_SOCKET')).toBe(JSON.stringify(SOCKET_NAME));
    expect(define('STANDBY_LOG')).toBe(JSON.stringify(LOG_NAME));
    expect(define('STANDBY_STARTING')).toBe(JSON.stringify(STARTING_NAME));
  });
});
