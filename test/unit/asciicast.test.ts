import { describe, expect, it } from 'vitest';
import { decodeEvent, decodeHeader, encodeEvent, encodeHeader, exitMarker, isExitMarker } from '../../src/recording/asciicast';
import { parseSize } from '../../src/recording/settings';
import { Utf8Stream, incompleteTail } from '../../src/supervisor/recording/utf8-stream';

// The asciicast v2 codec shared by the recorder and the readers, and the decoding of raw
// pty bytes into the text of `o` events.

describe('asciicast v2 lines', () => {
  it('round-trips a header and events, escaping what JSON must', () => {
    const h = { version: 2 as const, width: 80, height: 24, timestamp: 1_700_000_000, command: 'bash', env: { TERM: 'xterm-256color' } };
    expect(decodeHeader(encodeHeader(h))).toEqual(h);
    const line = encodeEvent(1.2345678, 'o', 'a\x1b[31m"b"\\\r\n€😀');
    expect(line).toBe('[1.234568,"o","a\\u001b[31m\\"b\\"\\\\\\r\\n€😀"]');
    expect(decodeEvent(line)).toEqual({ time: 1.234568, code: 'o', data: 'a\x1b[31m"b"\\\r\n€😀' });
  });

  it('refuses what is not a header or a three-element event of a known code', () => {
    for (const bad of ['', '{', '{"version":3,"width":80,"height":24}', '{"version":2,"width":0,"height":24}', '[]']) expect(decodeHeader(bad), bad).toBeNull();
    for (const bad of ['', '[1,"o"]', '[1,"o","x",4]', '["1","o","x"]', '[-1,"o","x"]', '[1,"x","y"]', '[1,"o",5]', '[1,"o","x"']) expect(decodeEvent(bad), bad).toBeNull();
  });

  it('says which marker ends a recording', () => {
    expect(isExitMarker({ time: 1, code: 'm', data: exitMarker(3, null) })).toBe(true);
    expect(isExitMarker({ time: 1, code: 'm', data: exitMarker(null, 'SIGTERM') })).toBe(true);
    expect(isExitMarker({ time: 1, code: 'o', data: exitMarker(0, null) })).toBe(false);
    expect(isExitMarker({ time: 1, code: 'm', data: 'task 1 delivered' })).toBe(false);
  });

  it('reads sizes as 1024s', () => {
    expect([parseSize('64M'), parseSize('512k'), parseSize('1G'), parseSize('1000'), parseSize('1.5MiB'), parseSize('x')]).toEqual([
      64 * 1024 ** 2,
      512 * 1024,
      1024 ** 3,
      1000,
      1.5 * 1024 ** 2,
      null,
    ]);
  });
});

describe('pty bytes to text', () => {
  it('keeps a character split between chunks whole, with one decoder for the stream', () => {
    const chunks = [Buffer.from('Hello '), Buffer.from([0xe2]), Buffer.from([0x82, 0xac, 0x20]), Buffer.from([0xf0, 0x9f]), Buffer.from([0x98, 0x80, 0x0d, 0x0a]), Buffer.from([0xff, 0x41])];
    const s = new Utf8Stream();
    const texts = chunks.map((c) => s.decode(c));
    expect(texts).toEqual(['Hello ', '', '€ ', '', '😀\r\n', '\ufffdA']);
    expect(s.end()).toBe('');
  });

  it('equals a whole decode for every cut of mixed text, ASCII chunks taken as they are', () => {
    const whole = Buffer.from('ab€c😀d\u00e9\r\nplain ascii\x1b[0m ünïcödé 日本');
    for (let a = 0; a <= whole.length; a++) {
      for (let b = a; b <= whole.length; b += 3) {
        const s = new Utf8Stream();
        const got = s.decode(whole.subarray(0, a)) + s.decode(whole.subarray(a, b)) + s.decode(whole.subarray(b)) + s.end();
        expect(got, `cuts ${a} ${b}`).toBe(whole.toString('utf8'));
      }
    }
  });

  it('tells a chunk that may end inside a character', () => {
    expect(incompleteTail(Buffer.from('abc'))).toBe(false);
    expect(incompleteTail(Buffer.from('a€'))).toBe(false);
    expect(incompleteTail(Buffer.from([0x61, 0xe2, 0x82]))).toBe(true);
    expect(incompleteTail(Buffer.from([0xc3]))).toBe(true);
    expect(incompleteTail(Buffer.from([0x98, 0x80]))).toBe(true); // its lead byte is elsewhere: careful
  });
});
