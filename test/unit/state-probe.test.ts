import { describe, expect, it } from 'vitest';
import { StateProbe } from '../../src/supervisor/driving/state-probe';

// Claude Code's state probe found in the raw output however the chunks cut it: whole, split
// in two or three anywhere, and one byte at a time.

const P = '\x1b]7501;?';
const text = Buffer.from(`a${P}\x07b${P}${P}x\x1b]7501;!${P.slice(0, 4)}`, 'latin1');

describe('the state probe scan', () => {
  it('counts each probe once, wherever the chunks are cut', () => {
    for (let a = 0; a <= text.length; a++) {
      for (let b = a; b <= text.length; b++) {
        const p = new StateProbe();
        expect(p.scan(text.subarray(0, a)) + p.scan(text.subarray(a, b)) + p.scan(text.subarray(b)), `${a} ${b}`).toBe(3);
      }
    }
    const bytewise = new StateProbe();
    let n = 0;
    for (const c of text) n += bytewise.scan(Buffer.from([c]));
    expect(n).toBe(3);
  });
});
