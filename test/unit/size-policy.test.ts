import { describe, expect, it } from 'vitest';
import { type Voter, answeringViewer, chooseSize, lastTypedOrder, leadViewer } from '../../src/supervisor/viewers/size-policy';

// The window size policy and the answering viewer (protocol.md §11, §12), on plain voters.

function v(id: number, o: Partial<Voter> = {}): Voter {
  return { id, canWrite: true, cols: 80, rows: 24, typedOrder: 0, live: true, stale: false, ...o };
}

describe('size policy', () => {
  it('latest: nobody typed, the viewer attached longest keeps the size', () => {
    const a = v(1, { cols: 100, rows: 30 });
    const b = v(2, { cols: 120, rows: 40 });
    expect(chooseSize('latest', [b, a])).toEqual({ cols: 100, rows: 30 });
    expect(leadViewer([b, a])).toBe(a);
  });

  it('latest: the viewer that typed most recently wins', () => {
    const a = v(1, { cols: 100, rows: 30, typedOrder: 3 });
    const b = v(2, { cols: 120, rows: 40, typedOrder: 7 });
    expect(chooseSize('latest', [a, b])).toEqual({ cols: 120, rows: 40 });
    expect(lastTypedOrder([a, b])).toBe(7);
  });

  it('read-only viewers, control connections and viewers without a size never count', () => {
    const ro = v(1, { canWrite: false, cols: 10, rows: 5, typedOrder: 9 });
    const noSize = v(2, { cols: null, rows: null });
    expect(chooseSize('latest', [ro, noSize])).toBeNull();
    expect(chooseSize('smallest', [ro, noSize])).toBeNull();
    expect(chooseSize('latest', [ro, noSize, v(3, { cols: 90, rows: 20 })])).toEqual({ cols: 90, rows: 20 });
  });

  it('smallest: the smallest columns and the smallest rows of all counting viewers', () => {
    expect(chooseSize('smallest', [v(1, { cols: 100, rows: 20 }), v(2, { cols: 80, rows: 50 }), v(3, { canWrite: false, cols: 10, rows: 5 })])).toEqual({ cols: 80, rows: 20 });
  });

  it('the answering viewer is writable and receiving the stream, the latest typist first', () => {
    const stale = v(1, { typedOrder: 9, stale: true });
    const notLive = v(2, { typedOrder: 8, live: false });
    const ro = v(3, { typedOrder: 7, canWrite: false });
    const a = v(4, { typedOrder: 2 });
    const b = v(5, { typedOrder: 5 });
    expect(answeringViewer([stale, notLive, ro, a, b])).toBe(b);
    expect(answeringViewer([stale, notLive, ro])).toBeNull();
  });
});
