import { describe, expect, it } from 'vitest';
import { Recording } from '../../src/recording/limits';
import { ByteQueue } from '../../src/supervisor/recording/byte-queue';

// The recorder's queue of bytes: what goes in comes out, in order, however it is split
// between buffers; written buffers are used again while the writer is busy.

describe('the byte queue', () => {
  it('gives back what was written, ASCII and UTF-8, across buffers of every size', () => {
    const q = new ByteQueue();
    const pieces = ['[0.1,"o",', JSON.stringify('héllo € 😀'), ']\n', 'x'.repeat(Recording.WriteBytesMin - 3), 'y'.repeat(Recording.WriteBytes + 5), 'z'];
    for (const p of pieces) q.write(p, !/[^\x00-\x7f]/.test(p));
    const expected = Buffer.from(pieces.join(''), 'utf8');
    expect(q.bytes).toBe(expected.length);
    const out = q.take();
    expect(Buffer.concat(out).equals(expected)).toBe(true);
    expect(q.bytes).toBe(0);
    expect(q.take()).toEqual([]);
  });

  it('uses a written big buffer again, and lets it go once idle', () => {
    const fill = (q: ByteQueue) => {
      for (let i = 0; i < 3; i++) q.write('a'.repeat(Recording.WriteBytes / 2), true);
    };
    const q1 = new ByteQueue();
    fill(q1);
    const first = q1.take();
    const big = first.find((b) => b.buffer.byteLength === Recording.WriteBytes)!;
    ByteQueue.written(first);
    const q2 = new ByteQueue();
    fill(q2);
    expect(q2.take().some((b) => b.buffer === big.buffer)).toBe(true);
    ByteQueue.written(first);
    ByteQueue.idle();
    const q3 = new ByteQueue();
    fill(q3);
    expect(q3.take().some((b) => b.buffer === big.buffer)).toBe(false);
  });
});
