import { describe, expect, it } from 'vitest';
import { FrameError, FrameReader, HEADER_BYTES, MAX_FRAME_BYTES, NO_FRAME, encodeFrame } from '../../src/protocol/framing';

// Framing (protocol.md §2): a 4-byte big-endian length, then one msgpack value.

function splitEvery(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n));
  return out;
}

describe('framing', () => {
  it('encodes a length header and one msgpack value, and decodes it back', () => {
    const f = encodeFrame({ t: 'detach' });
    expect(f.readUInt32BE(0)).toBe(f.length - HEADER_BYTES);
    expect(new FrameReader().push(f)).toEqual([{ t: 'detach' }]);
  });

  it('decodes frames however the stream is cut, small and large mixed', () => {
    const big = Buffer.alloc(300 * 1024, 7);
    const values = [{ t: 'a', n: 1 }, { t: 'output', data: big }, { t: 'b', s: 'é'.repeat(100) }];
    const stream = Buffer.concat(values.map((v) => encodeFrame(v)));
    for (const cut of [1, 3, 4, 5, 1000, 65536]) {
      const r = new FrameReader();
      const got: unknown[] = [];
      for (const piece of splitEvery(stream, cut)) got.push(...r.push(piece));
      expect(got).toHaveLength(3);
      expect(got[0]).toEqual(values[0]);
      expect(Buffer.from((got[1] as { data: Uint8Array }).data).equals(big)).toBe(true);
      expect(got[2]).toEqual(values[2]);
      expect(r.pendingBytes).toBe(0);
    }
  });

  it('counts the bytes of a frame not yet whole, and drops them on clear', () => {
    const f = encodeFrame({ t: 'x', data: Buffer.alloc(1000) });
    const r = new FrameReader();
    expect(r.push(f.subarray(0, 500))).toEqual([]);
    expect(r.pendingBytes).toBe(500);
    r.clear();
    expect(r.pendingBytes).toBe(0);
    expect(r.read()).toBe(NO_FRAME);
  });

  it('refuses an empty frame, an oversized header (before its body) and a payload that is not one value', () => {
    const empty = Buffer.alloc(4);
    expect(() => new FrameReader().push(empty)).toThrow(FrameError);
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(MAX_FRAME_BYTES + 1);
    try {
      new FrameReader().push(huge);
      expect.unreachable();
    } catch (err) {
      expect((err as FrameError).code).toBe('frame-too-large');
    }
    const small = new FrameReader(64);
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(65);
    expect(() => small.push(hdr)).toThrow(/exceeds the 64-byte limit/);
    const junk = Buffer.from([0, 0, 0, 2, 0xc1, 0xc1]);
    try {
      new FrameReader().push(junk);
      expect.unreachable();
    } catch (err) {
      expect((err as FrameError).code).toBe('malformed');
    }
  });
});
