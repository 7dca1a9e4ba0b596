import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPERVISOR_NODE_FLAGS } from '../../src/held-env';

// The standby's rehearsal kept in effect (src/standby/rehearsal.ts): in a real Node under
// the supervisor's flags, the rehearsal's mirror is kept and snapshotted again after a full
// collection (which throws away the code optimized for objects that died), never after a
// scavenge, and no more once a copy has released it.

const DIST = path.join(__dirname, '..', '..', 'dist');

/** Runs `body` after a real rehearsal kept by keepRehearsal; `again` counts its snapshots made again. */
function run(body: string): { status: number | null; out: string; err: string } {
  const script = `
    const { rehearse } = require(${JSON.stringify(path.join(DIST, 'supervisor', 'entry.js'))});
    const { keepRehearsal } = require(${JSON.stringify(path.join(DIST, 'standby', 'rehearsal.js'))});
    // In steps: V8's gc entries reach observers at the loop's next turn (an unreferenced
    // immediate), which a single long timer would hold back until it fires.
    const sleep = async (ms) => { for (let t = 0; t < ms; t += 50) await new Promise((r) => setTimeout(r, 50)); };
    (async () => {
      const rehearsal = await rehearse();
      let again = 0, dropped = 0;
      const counted = {
        again: async () => { again++; await rehearsal.again(); },
        drop: () => { dropped++; rehearsal.drop(); },
      };
      const kept = keepRehearsal(counted);
      const state = () => ({ again, dropped });
      ${body}
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const r = spawnSync(process.execPath, [...SUPERVISOR_NODE_FLAGS, '-e', script], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('the standby keeps its rehearsal in effect', () => {
  it('snapshots again once after a full collection, not after a scavenge', () => {
    const r = run(`
      gc({ type: 'minor' });
      await sleep(1500);
      const afterMinor = state();
      gc();
      gc(); // two close together (as V8's memory reducer makes them): snapshots made once
      await sleep(1500);
      const afterFull = state();
      kept.release();
      console.log(JSON.stringify({ afterMinor, afterFull, afterRelease: state() }));
    `);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      afterMinor: { again: 0, dropped: 0 },
      afterFull: { again: 1, dropped: 0 },
      afterRelease: { again: 1, dropped: 1 },
    });
  });

  it('a released rehearsal is not snapshotted again (a copy)', () => {
    const r = run(`
      gc();
      kept.release(); // before the snapshots were due
      gc();
      await sleep(1500);
      console.log(JSON.stringify(state()));
    `);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ again: 0, dropped: 1 });
  });
});
