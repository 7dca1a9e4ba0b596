import * as os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { OuterTerm } from '../../bench/outer';

// The benchmark's stand-in for the user's terminal: what it reports as shown must be right,
// whatever the chunks the pty hands it.

let term: OuterTerm | null = null;
afterEach(async () => {
  await term?.close();
  term = null;
});

function outer(script: string): OuterTerm {
  term = new OuterTerm('sh', ['-c', script], { cols: 80, rows: 24, cwd: os.tmpdir(), env: process.env });
  return term;
}

describe('bench outer terminal', () => {
  it('finds text split across chunks and escape sequences, from a position on', async () => {
    const t = outer(`printf 'one AB'; sleep 0.1; printf '\\033[1mC\\033[0mD two'; sleep 0.1; printf ' AB'; exec sleep 5`);
    await t.waitText('ABCD', 5000);
    const from = t.mark;
    expect(t.seen('ABCD')).toBe(true);
    expect(t.seen('ABCD', from)).toBe(false);
    await t.waitText('AB', 5000, from);
    expect(t.seen(' AB', from - 1)).toBe(true);
  });

  it('finds the end of 400 KB of output, and the start is still there', async () => {
    const t = outer(`seq -f 'line %06.0f of a long replay, padded to be longer' 1 8000; echo THE-END; exec sleep 5`);
    await t.waitText('THE-END', 10_000);
    expect(t.chars).toBeGreaterThan(400_000);
    expect(t.seen('line 000001 of')).toBe(true);
    expect(t.seen('line 008000 of')).toBe(true);
    expect(t.seen('line 008001 of')).toBe(false);
  });
});
