import { describe, expect, it } from 'vitest';
import { Hold } from '../../src/supervisor/lifecycle/early-start';

describe('Hold: what arrives before the supervisor takes it', () => {
  it('hands the held items over first, in order, then passes the next ones straight on', () => {
    const h = new Hold<string>();
    h.take('a');
    h.take('b');
    const got: string[] = [];
    h.deliverTo((x) => {
      got.push(x);
      if (x === 'a') h.take('c'); // arriving during the hand-over: after what was held
    });
    h.take('d');
    expect(got).toEqual(['a', 'b', 'c', 'd']);
  });
});
