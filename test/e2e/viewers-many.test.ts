import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, waitFor } from '../helpers/sandbox';
import { Viewer, captureJson, socketOf, status } from '../helpers/viewers-client';

// Ten viewers on one agent, attached while it prints: each must end up with exactly the
// screen a lone viewer would (snapshot + seq-joined stream), and typing in one shows in all.

let sb: Sandbox;
const viewers: Viewer[] = [];
afterEach(() => {
  for (const v of viewers.splice(0)) v.close();
  sb?.dispose();
});

function spawnBash(s: Sandbox, id: string, extra: string[] = []): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, '--cols', '80', '--rows', '24', ...extra, '--', 'bash', '--norc', '--noprofile', '-i'], {
    env: { PS1: 'P$ ' },
  });
  expect(r).toMatchObject({ code: 0 });
}

async function sameScreen(v: Viewer, id: string): Promise<void> {
  await waitFor(async () => {
    await v.flush();
    const cap = await captureJson(sb, id);
    return v.screenText() === cap.text && JSON.stringify(v.cursor()) === JSON.stringify(cap.cursor);
  }, 20_000, 200).catch(async (err: Error) => {
    const cap = await captureJson(sb, id);
    expect(v.screenText()).toBe(cap.text); // shows the difference
    throw err;
  });
}

describe('many viewers', () => {
  it('ten viewers attached during output each see the exact screen; input from one shows in all', async () => {
    sb = new Sandbox();
    spawnBash(sb, 'v10');
    const sock = socketOf(sb, 'v10');
    expect(await sb.runAsync(['agent', 'send', 'v10', 'for i in $(seq 1 3000); do echo "line-$i $RANDOM"; (( i % 100 )) || sleep 0.05; done; echo DONE-1', '--enter'])).toMatchObject({ code: 0 });
    // Attach while the loop prints, a few at a time.
    for (let i = 0; i < 10; i++) {
      viewers.push(await Viewer.attach(sock, { cols: 80, rows: 24 }));
      await new Promise((r) => setTimeout(r, 30));
    }
    expect((await status(sock)).viewers).toBe(10);
    await waitFor(async () => (await captureJson(sb, 'v10')).text.includes('DONE-1'), 30_000, 100);
    for (const v of viewers) {
      expect(v.snapshots.map((s) => s.reason)).toEqual(['attach']);
      expect(v.gaps).toEqual([]);
      expect(v.errors).toEqual([]);
      await sameScreen(v, 'v10');
    }
    // They joined the stream at different points (mid-output) but end at the same seq.
    const joins = new Set(viewers.map((v) => v.snapshots[0]!.seq));
    console.log(`snapshot seqs: ${viewers.map((v) => v.snapshots[0]!.seq).join(' ')}; outputs: ${viewers.map((v) => v.outputs).join(' ')}`);
    expect(joins.size).toBeGreaterThan(3);
    const last = new Set(viewers.map((v) => v.lastSeq));
    expect(last.size).toBe(1);
    expect(Number((await status(sock)).seq)).toBe([...last][0]);

    // Typed in viewer 3: every viewer sees it.
    viewers[3]!.input('echo typed-in-$((1+2))\r');
    await waitFor(async () => (await captureJson(sb, 'v10')).text.includes('typed-in-3\nP$'), 10_000, 100);
    for (const v of viewers) {
      await sameScreen(v, 'v10');
      expect(v.screenText()).toContain('echo typed-in-$((1+2))\ntyped-in-3');
      expect(v.gaps).toEqual([]);
    }
  });
});
