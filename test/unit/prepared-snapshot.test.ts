import { describe, expect, it } from 'vitest';
import { Screen } from '../../src/supervisor/mirror/screen';
import type { LazySerializer } from '../../src/supervisor/mirror/serializer';

// A snapshot prepared at a quiet moment (snapshots.ts, warm): the rest of the screen that
// the history's chunks lack is serialized then, and an attach takes it as it is. It must
// be the very bytes a snapshot serialized at the attach would be, and be thrown away as
// soon as anything changes (output, a resize).

const COLS = 50;
const ROWS = 8;

function screen(): Screen {
  // Small history chunks and live window, so that the history is mostly in chunks.
  return new Screen(COLS, ROWS, 400, 1 << 24, false, 16, 0, 24);
}

function lines(from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += `\x1b[1;3${i % 8}mline ${String(i).padStart(5, '0')}\x1b[0m ${'x'.repeat(i % 37)}\r\n`;
  return s;
}

function snapshot(s: Screen): Promise<Buffer> {
  return new Promise((resolve) => s.snapshot((snap) => resolve(snap.bytes)));
}

/** A screen fed `steps` (output, or a resize) that never prepared anything: its snapshot is serialized when asked. */
async function reference(steps: Array<string | [number, number]>): Promise<Buffer> {
  const s = screen();
  for (const step of steps) {
    if (typeof step === 'string') s.write(Buffer.from(step));
    else s.resize(step[0], step[1]);
    await s.flush();
  }
  return snapshot(s);
}

/** Makes the screen's serializer fail: a snapshot that still succeeds used what was prepared. */
function forbidSerializing(s: Screen): () => void {
  const serializer = (s as unknown as { snapshots: { serializer: LazySerializer } }).snapshots.serializer;
  const addon = serializer.get();
  const real = addon.serialize.bind(addon);
  addon.serialize = () => {
    throw new Error('serialized at the request');
  };
  return () => {
    addon.serialize = real;
  };
}

describe('a snapshot prepared at a quiet moment', () => {
  it('is byte for byte the snapshot serialized at the request, and is taken without serializing', async () => {
    const s = screen();
    const out = `${lines(0, 300)}\x1b[?2004h\x1b[3;5Hcursor here`;
    s.write(Buffer.from(out));
    await s.flush();
    s.warm();
    await s.flush();
    const allow = forbidSerializing(s);
    const prepared = await snapshot(s);
    const again = await snapshot(s); // a second attach at the same point takes it too
    allow();
    const expected = await reference([out]);
    expect(prepared.toString('utf8')).toBe(expected.toString('utf8'));
    expect(again.equals(prepared)).toBe(true);
  });

  it('is not used once more output came, or after a resize', async () => {
    const s = screen();
    const first = lines(0, 300);
    s.write(Buffer.from(first));
    await s.flush();
    s.warm();
    await s.flush();
    // One more line: the prepared rest is stale.
    const more = 'one more line\r\n';
    s.write(Buffer.from(more));
    await s.flush();
    expect((await snapshot(s)).toString('utf8')).toBe((await reference([first, more])).toString('utf8'));

    s.warm();
    await s.flush();
    s.resize(COLS + 7, ROWS + 2);
    await s.flush();
    expect((await snapshot(s)).toString('utf8')).toBe((await reference([first, more, [COLS + 7, ROWS + 2]])).toString('utf8'));
  });
});
