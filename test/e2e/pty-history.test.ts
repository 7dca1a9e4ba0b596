import type { Terminal } from '@xterm/headless';
import { afterEach, describe, expect, it } from 'vitest';
import { renderAnsiLines } from '../../src/supervisor/mirror/render';
import { Sandbox, waitFor } from '../helpers/sandbox';
import { Viewer, socketOf } from '../helpers/viewers-client';

// A full history: more lines than the 10 000 promised, far past the lines the mirror keeps
// live in xterm (the rest is archived serialized, history-archive.ts). The replay an
// attach gets must hold exactly what capture --scrollback gives (text and colours), and
// capture --since must read the old lines by their numbers, across a resize and a reset.

let sb: Sandbox;
const viewers: Viewer[] = [];
afterEach(() => {
  for (const v of viewers.splice(0)) v.close();
  sb?.dispose();
});

interface Captured {
  text: string;
  firstLine: number | null;
  nextLine: number | null;
  skipped: number;
}

async function capture(id: string, ...flags: string[]): Promise<Captured> {
  const r = await sb.runAsync(['agent', 'capture', id, '--json', ...flags]);
  expect(r, r.stderr).toMatchObject({ code: 0 });
  return JSON.parse(r.stdout) as Captured;
}

function spawn(id: string, script: string, cols = 100, rows = 30): void {
  const r = sb.run(['agent', 'spawn', '--uuid', id, '--workdir', sb.work, '--cols', String(cols), '--rows', String(rows), '--', 'sh', '-c', script]);
  expect(r, r.stderr).toMatchObject({ code: 0 });
}

/** awk printing lines `PREFIX000001`…, coloured, ~80 columns. */
function awkLines(prefix: string, n: number): string {
  return `awk 'BEGIN{for(i=1;i<=${n};i++)printf "\\033[1;3%dm${prefix}%06d\\033[0m the quick brown \\033[32mfox\\033[0m jumps over the lazy dog %s\\n", i%8, i, substr("abcdefghijklmnopqrstuvwxyz", 1, i%27)}'`;
}

function plainLine(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(6, '0')} the quick brown fox jumps over the lazy dog ${'abcdefghijklmnopqrstuvwxyz'.slice(0, i % 27)}`.trimEnd();
}

/** The viewer's terminal, every line: plain (trailing blanks trimmed) or with colours, blank lines at the end dropped. */
function viewerLines(t: Terminal, ansi: boolean): string[] {
  const buf = t.buffer.normal;
  const out = ansi ? renderAnsiLines(buf, 0, buf.length, t.cols) : Array.from({ length: buf.length }, (_, y) => buf.getLine(y)!.translateToString(true).trimEnd());
  while (out.length > 0 && out[out.length - 1]!.replace(/\x1b\[[0-9;]*m/g, '').trim() === '') out.pop();
  return out;
}

async function attach(id: string, cols: number, rows: number): Promise<Viewer> {
  const v = await Viewer.attach(socketOf(sb, id), { cols, rows, scrollback: 20_000 });
  viewers.push(v);
  await waitFor(() => v.snapshots.length > 0 && v.term !== null);
  await new Promise<void>((r) => v.term!.write('', r));
  return v;
}

describe('a full history past the live window', { timeout: 120_000 }, () => {
  it('replays exactly what capture --scrollback gives, and capture --since reads old lines, also after a resize', async () => {
    sb = new Sandbox();
    spawn('h1', `${awkLines('L', 12_000)}; echo HISTORY-DONE; exec cat`);
    await waitFor(async () => (await capture('h1')).text.includes('HISTORY-DONE'), 60_000, 200);

    const all = await capture('h1', '--scrollback');
    const lines = all.text.split('\n');
    // At least the 10 000 lines promised, each where its number says.
    expect(lines.length).toBeGreaterThanOrEqual(10_000);
    const first = all.firstLine!;
    expect(lines[0]).toBe(plainLine('L', first + 1));
    for (let k = 0; k < lines.length - 1; k++) expect(lines[k]).toBe(plainLine('L', first + k + 1));
    expect(lines[lines.length - 1]).toBe('HISTORY-DONE');
    expect(all.nextLine).toBe(12_001);

    // The replay holds the same lines, and the same colours.
    const v = await attach('h1', 100, 30);
    expect(viewerLines(v.term!, false)).toEqual(lines);
    const ansi = await capture('h1', '--scrollback', '--ansi');
    expect(viewerLines(v.term!, true)).toEqual(ansi.text.split('\n'));

    // The oldest lines by number.
    const from = await capture('h1', '--since', String(first + 5));
    expect(from.firstLine).toBe(first + 5);
    expect(from.text.split('\n')).toEqual(lines.slice(5));
    expect((await capture('h1', '--since', String(first - 7))).skipped).toBe(7);
    v.close();

    // Narrower: the live lines reflow, the archived ones stay as they were; numbers go on.
    await attach('h1', 60, 20);
    expect((await sb.runAsync(['agent', 'send', 'h1', 'after the resize', '--enter'])).code).toBe(0);
    await waitFor(async () => (await capture('h1')).text.includes('after the resize'), 15_000, 100);
    const resized = await capture('h1', '--scrollback');
    // (The reflowed live lines take more rows: the oldest chunk of the history made room.)
    const again = await capture('h1', '--since', String(first + 3000));
    expect(again.text.split('\n').slice(0, 3)).toEqual(lines.slice(3000, 3003));
    expect(resized.nextLine!).toBeGreaterThan(12_001);
    // The live lines were reflowed to 60 columns.
    expect(resized.text.split('\n')).toContain(plainLine('L', 12_000).slice(0, 60));
    const since = await capture('h1', '--since', String(all.nextLine! - 1));
    expect(since.text).toContain('HISTORY-DONE');
    expect(since.text).toContain('after the resize');
  });

  it('keeps what came before a terminal reset (RIS) and numbers on after it', async () => {
    sb = new Sandbox();
    spawn('h2', `${awkLines('A', 3000)}; printf '\\033c'; ${awkLines('B', 3000)}; echo RESET-DONE; exec cat`);
    await waitFor(async () => (await capture('h2')).text.includes('RESET-DONE'), 60_000, 200);
    const all = await capture('h2', '--scrollback');
    const lines = all.text.split('\n');
    expect(all.firstLine).toBe(0);
    expect(lines.slice(0, 3000)).toEqual(Array.from({ length: 3000 }, (_, k) => plainLine('A', k + 1)));
    expect(lines.slice(3000, 6000)).toEqual(Array.from({ length: 3000 }, (_, k) => plainLine('B', k + 1)));
    expect(all.nextLine).toBe(6001);
    expect((await capture('h2', '--since', '100')).text.split('\n')[0]).toBe(plainLine('A', 101));
    expect((await capture('h2', '--since', '5000')).text.split('\n')[0]).toBe(plainLine('B', 2001));
    // The replay agrees.
    const v = await attach('h2', 100, 30);
    expect(viewerLines(v.term!, false)).toEqual(lines);
  });
});
