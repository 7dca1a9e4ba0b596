import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox, waitFor } from '../helpers/sandbox';
import { Viewer, captureJson, socketOf, status } from '../helpers/viewers-client';

// The agent's terminal queries (DA1, CPR) get exactly one answer however many viewers
// watch: the viewer that typed last answers, the others' answers are dropped; with no
// viewer able to answer, the supervisor's own terminal does.

let sb: Sandbox;
const viewers: Viewer[] = [];
afterEach(() => {
  for (const v of viewers.splice(0)) v.close();
  sb?.dispose();
});

// In raw mode: `q` asks DA1 + CPR where the cursor is, `h` asks them at row 1 column 1
// (where a CPR is byte for byte Ctrl+F3's key code); 1.5 s later it prints what it got.
const AGENT = String.raw`
process.stdin.setRawMode(true);
let buf = '', n = 0, da = [], cpr = [], keys = [];
const out = (s) => process.stdout.write(s);
function round(home) {
  n++; da = []; cpr = []; keys = [];
  out((home ? '\x1b[2J\x1b[H' : '') + '\x1b[c\x1b[6n' + 'round ' + n + '\r\n');
  const k = n;
  setTimeout(() => out('result ' + k + ' DA=' + da.length + ' [' + da.join(' ') + '] CPR=' + cpr.length + ' [' + cpr.join(' ') + '] other=' + JSON.stringify(keys.join('')) + '\r\n'), 1500);
}
process.stdin.on('data', (d) => {
  buf += d.toString('latin1');
  for (;;) {
    let m;
    if ((m = /^\x1b\[\?([\d;]*)c/.exec(buf))) { da.push(m[1]); buf = buf.slice(m[0].length); continue; }
    if ((m = /^\x1b\[(\d+);(\d+)R/.exec(buf))) { cpr.push(m[1] + ';' + m[2]); buf = buf.slice(m[0].length); continue; }
    if (buf === '') break;
    const ch = buf[0]; buf = buf.slice(1);
    if (ch === 'q') round(false);
    else if (ch === 'h') round(true);
    else if (ch === 'x') process.exit(0);
    else keys.push(ch);
  }
});
out('ready\r\n');
`;

async function result(id: string, n: number): Promise<string> {
  const re = new RegExp(`^result ${n} (.*)$`, 'm');
  const m = await waitFor(async () => re.exec((await captureJson(sb, id)).text), 15_000, 100);
  return m[1]!;
}

describe('terminal queries with several viewers', () => {
  it('exactly one answer: the supervisor alone, then the viewer that typed last', async () => {
    sb = new Sandbox();
    const script = path.join(sb.work, 'queries.js');
    fs.writeFileSync(script, AGENT);
    const r = sb.run(['agent', 'spawn', '--uuid', 'qa', '--workdir', sb.work, '--cols', '80', '--rows', '24', '--', process.execPath, script]);
    expect(r).toMatchObject({ code: 0 });
    const sock = socketOf(sb, 'qa');
    await waitFor(async () => (await captureJson(sb, 'qa')).text.includes('ready'), 15_000, 100);

    // Nobody attached: the supervisor's headless terminal answers, once.
    expect(await sb.runAsync(['agent', 'send', 'qa', 'q'])).toMatchObject({ code: 0 });
    expect(await result('qa', 1)).toMatch(/^DA=1 \[1;2\] CPR=1 \[\d+;\d+\] other=""$/);

    // Only a read-only viewer, whose terminal answers too: refused; the supervisor answers.
    const ro = await Viewer.attach(sock, { readOnly: true, answerQueries: true, daTag: 9, cols: 80, rows: 24 });
    viewers.push(ro);
    await waitFor(() => ro.snapshots.length > 0);
    expect(await sb.runAsync(['agent', 'send', 'qa', 'q'])).toMatchObject({ code: 0 });
    expect(await result('qa', 2)).toMatch(/^DA=1 \[1;2\] CPR=1 \[\d+;\d+\] other=""$/);
    expect(ro.errors.length).toBeGreaterThan(0);
    expect(new Set(ro.errors.map((e) => e.code))).toEqual(new Set(['read-only']));

    // Three answering viewers of different sizes; a lone first one (a) sets the size.
    const a = await Viewer.attach(sock, { answerQueries: true, daTag: 1, cols: 80, rows: 24 });
    const b = await Viewer.attach(sock, { answerQueries: true, daTag: 2, cols: 90, rows: 30 });
    const c = await Viewer.attach(sock, { answerQueries: true, daTag: 3, cols: 100, rows: 40 });
    viewers.push(a, b, c);
    await waitFor(() => [a, b, c].every((v) => v.snapshots.length > 0));

    // Nobody typed yet: the viewer attached first answers.
    expect(await sb.runAsync(['agent', 'send', 'qa', 'q'])).toMatchObject({ code: 0 });
    expect(await result('qa', 3)).toMatch(/^DA=1 \[1;2;1\] CPR=1 \[\d+;\d+\] other=""$/);

    // b types: b answers, and b's size is taken.
    b.input('q');
    expect(await result('qa', 4)).toMatch(/^DA=1 \[1;2;2\] CPR=1 \[\d+;\d+\] other=""$/);
    expect((await status(sock)).cols).toBe(90);

    // c types: c answers. At row 1 column 1 the CPR is `ESC [ 1 ; 1 R`, Ctrl+F3's
    // bytes: still one answer, and the other viewers' copies are not taken as typing.
    c.input('h');
    expect(await result('qa', 5)).toBe('DA=1 [1;2;3] CPR=1 [1;1] other=""');
    const s = await status(sock);
    expect(`${s.cols}x${s.rows}`).toBe('100x40');

    // c leaves: b typed before it, so b answers again.
    c.close();
    await waitFor(async () => (await status(sock)).viewers === 3);
    expect(await sb.runAsync(['agent', 'send', 'qa', 'q'])).toMatchObject({ code: 0 });
    expect(await result('qa', 6)).toMatch(/^DA=1 \[1;2;2\] CPR=1 \[\d+;\d+\] other=""$/);
    expect((await status(sock)).cols).toBe(90);

    for (const v of [a, b, c, ro]) expect(v.gaps).toEqual([]);
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  });
});
