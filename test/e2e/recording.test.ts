import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type * as Api from '../../src/client';
import { CLI, ROOT, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// Issue 21: every pty session on the record. Real supervisors, real programs, the real
// asciinema (Debian's package; `asciinema cat` needs a terminal, so it runs under
// `script -e`, which makes a traceback fail the command).

const sandbox = sandboxPerTest({ SYMPOSIUM_AGENT_BACKEND: 'pty' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = () => require(path.join(ROOT, 'dist', 'client', 'index.js')) as typeof Api;

type Event = [number, string, string];
interface Cast {
  header: Record<string, unknown>;
  events: Event[];
}

/** A recording read line by line, each line parsed as JSON and checked: a header, then three-element events. */
function readCast(file: string): Cast {
  const text = fs.readFileSync(file, 'utf8');
  expect(text.endsWith('\n'), `${file} ends with a whole line`).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  const header = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(header).toMatchObject({ version: 2 });
  const events = lines.slice(1).map((l) => {
    const e = JSON.parse(l) as unknown;
    expect(Array.isArray(e) && e.length === 3 && typeof e[0] === 'number' && typeof e[1] === 'string' && typeof e[2] === 'string', l).toBe(true);
    return e as Event;
  });
  for (let i = 1; i < events.length; i++) expect(events[i]![0]).toBeGreaterThanOrEqual(events[i - 1]![0]);
  return { header, events };
}

const output = (c: Cast): string => c.events.filter((e) => e[1] === 'o').map((e) => e[2]).join('');
const markers = (c: Cast): string[] => c.events.filter((e) => e[1] === 'm').map((e) => e[2]);

/** `asciinema cat` under a terminal; its exit status says whether it read the whole file. */
function asciinemaCat(file: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('script', ['-eqc', `asciinema cat ${file}`, '/dev/null'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function parts(s: Sandbox, id: string): string[] {
  const dir = path.join(s.home, 'sessions', id);
  return fs
    .readdirSync(dir)
    .filter((f) => /^recording\.\d+\.cast$/.test(f))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
    .map((f) => path.join(dir, f));
}

function spawnOk(s: Sandbox, id: string, cmd: string[], extra: string[] = []): void {
  const r = s.run(['agent', 'spawn', '--uuid', id, '--workdir', s.work, ...extra, '--', ...cmd]);
  expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
}

/** Until the agent has exited and its recording ends with the exit marker (written just after the exit is told). */
async function waitExit(s: Sandbox, id: string): Promise<void> {
  const r = s.run(['agent', 'wait', id, '--exit', '--timeout', '30']);
  expect(r.code, r.stderr).not.toBe(124);
  await recorded(s, id);
}

async function recorded(s: Sandbox, id: string): Promise<void> {
  await waitFor(() => /\[[\d.]+,"m","exit (code|signal) [^"]+"\]\n$/.test(fs.readFileSync(parts(s, id).at(-1)!, 'utf8')));
}

/** A Python agent that writes `chunks` one by one, with a pause between them (so they arrive as separate reads). */
function writer(chunks: string[], pauseMs = 20): string[] {
  const data = JSON.stringify(chunks.map((c) => Buffer.from(c, 'latin1').toString('base64')));
  return [
    'python3',
    '-c',
    `import base64, json, os, time\nfor c in json.loads(${JSON.stringify(data)}):\n    os.write(1, base64.b64decode(c)); time.sleep(${pauseMs / 1000})`,
  ];
}

/** Bytes as a latin1 string (so chunks can cut a UTF-8 character anywhere). */
const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('recordings', () => {
  it('record what the agent printed, byte for byte, as asciicast v2 that asciinema plays', async () => {
    const s = sandbox();
    const text = bytes('héllo € 😀\n\x1b[1;32mgreen\x1b[0m\n\x1b]0;a title\x07done 50%\rdone 100%\n') + bytes(Array.from({ length: 200 }, (_, i) => `line ${i}\n`).join(''));
    // Characters cut between writes: the recording keeps them whole.
    const chunks = [text.slice(0, 2), text.slice(2, 9), text.slice(9, 14), text.slice(14, 40), text.slice(40)];
    spawnOk(s, 'rec', writer(chunks), ['--cols', '100', '--rows', '30']);
    await waitExit(s, 'rec');
    const files = parts(s, 'rec');
    expect(files).toHaveLength(1);
    expect(fs.statSync(files[0]!).mode & 0o777).toBe(0o600);
    const cast = readCast(files[0]!);
    expect(cast.header).toMatchObject({ version: 2, width: 100, height: 30, env: { TERM: 'xterm-256color' } });
    expect(cast.header.command).toMatch(/^python3 -c /);
    expect(Math.abs((cast.header.timestamp as number) * 1000 - Date.now())).toBeLessThan(60_000);
    // The pty turns each \n into \r\n (onlcr): that is what the agent's terminal shows.
    const printed = Buffer.from(text, 'latin1').toString('utf8').replaceAll('\n', '\r\n');
    expect(output(cast)).toBe(printed);
    expect(markers(cast)).toEqual(['exit code 0']);
    expect(cast.events.some((e) => e[1] === 'i')).toBe(false);
    const played = asciinemaCat(files[0]!);
    expect(played.status, played.stderr).toBe(0);
    expect(played.stdout).toBe(printed);
    // The export of a one-part recording plays the same.
    const out = path.join(s.dir, 'rec.cast');
    const r = s.run(['agent', 'record', 'rec', '--output', out]);
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: `Recording of rec written to ${out}\n` });
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const exported = readCast(out);
    expect(exported.header.duration).toBe(cast.events.at(-1)![0]);
    expect(output(exported)).toBe(printed);
    expect(asciinemaCat(out).stdout).toBe(printed);
    // And the log: plain text, sequences gone, the \r overwrite applied.
    const logs = s.run(['agent', 'logs', 'rec', '--lines', '4']);
    expect(logs).toMatchObject({ code: 0, stdout: 'line 196\nline 197\nline 198\nline 199\n' });
    expect(s.run(['agent', 'logs', 'rec']).stdout.split('\n').slice(0, 3)).toEqual(['héllo € 😀', 'green', 'done 100%']);
  });

  it('mark resizes, viewers attaching and leaving, task deliveries and the exit; typed input only with --record-input', async () => {
    const s = sandbox();
    const client = new (lib().SymposiumClient)({ env: s.env });
    // It reads without echo: what was typed can only reach the recording as input.
    const agent = ['sh', '-c', 'stty -echo; echo ready; read a; echo got-one; read b; echo got-two; read c; echo got-three; exit 4'];
    for (const recordInput of [false, true]) {
      const id = recordInput ? 'in' : 'plain';
      await client.spawn({ id, workdir: s.work, command: agent, cols: 80, rows: 24, idleMs: 300, recordInput });
      await client.wait(id, { until: 'text', pattern: 'ready' }, { timeout: 10_000 });
      const view = await client.attach(id, { cols: 100, rows: 30 });
      await waitFor(() => view.cols === 100);
      view.write('viewer-secret\r');
      await client.wait(id, { until: 'text', pattern: 'got-one' }, { timeout: 10_000 });
      view.detach();
      const watch = await client.attach(id, { cols: 60, rows: 20, readOnly: true });
      await client.queue(id, 'queued-secret');
      await client.wait(id, { until: 'text', pattern: 'got-two' }, { timeout: 10_000 });
      await client.send(id, { text: 'typed-secret', enter: true });
      await client.wait(id, { until: 'exit' }, { timeout: 10_000 });
      watch.detach();
      await recorded(s, id);
      const cast = readCast(parts(s, id)[0]!);
      const ms = markers(cast);
      expect(ms).toEqual([
        expect.stringMatching(/^viewer \d+ attached$/),
        expect.stringMatching(/^viewer \d+ detached$/),
        expect.stringMatching(/^viewer \d+ attached read-only$/),
        'task 1 delivered',
        'exit code 4',
      ]);
      const viewer = /^viewer (\d+)/.exec(ms[0]!)![1];
      expect(ms[1]).toBe(`viewer ${viewer} detached`);
      // The first viewer's size was applied; the read-only one sets none.
      expect(cast.events.filter((e) => e[1] === 'r').map((e) => e[2])).toEqual(['100x30']);
      const all = fs.readFileSync(parts(s, id)[0]!, 'utf8');
      if (recordInput) {
        expect(cast.header.x_symposium).toMatchObject({ input: true });
        expect(cast.events.filter((e) => e[1] === 'i').map((e) => e[2]).join('')).toBe('viewer-secret\rqueued-secret\rtyped-secret\r');
      } else {
        expect(cast.events.some((e) => e[1] === 'i')).toBe(false);
        expect(all).not.toContain('secret');
      }
      expect(output(cast)).toBe('ready\r\ngot-one\r\ngot-two\r\ngot-three\r\n');
    }
  });

  it('rotate at the cap: the last parts are kept, each plays alone, the export joins them into one that asciinema plays', async () => {
    const s = sandbox();
    const lines = Array.from({ length: 9000 }, (_, i) => `line ${String(i).padStart(5, '0')} ${'.'.repeat(60)}\n`);
    // In bursts of 200 lines, as an agent prints: each later part can begin with the screen.
    // Each burst ends half-way through a line (72 bytes each): a part that begins with a
    // burst (on a loaded machine a burst is read in one go) still begins inside a line.
    const burst = `import os, time\ndata = ''.join('line %05d %s\\n' % (i, '.' * 60) for i in range(9000)).encode()\nfor off in range(0, len(data), 200 * 72 + 36):\n    os.write(1, data[off:off + 200 * 72 + 36]); time.sleep(0.01)`;
    spawnOk(s, 'rot', ['python3', '-c', burst], ['--record-cap', '256K']);
    await waitExit(s, 'rot');
    const files = parts(s, 'rot');
    const nums = files.map((f) => Number(path.basename(f).split('.')[1]));
    // ~630 KB of events in parts of 64 KiB: ten or so made, the last four kept.
    expect(nums).toHaveLength(4);
    expect(nums[0]).toBeGreaterThan(5);
    expect(nums).toEqual([nums[0]!, nums[0]! + 1, nums[0]! + 2, nums[0]! + 3]);
    const printed = lines.join('').replaceAll('\n', '\r\n');
    let joined = '';
    for (const f of files) {
      // A quarter of the cap, plus the chunk that crossed it (a burst here is 14.6 KB) and the opening screen.
      expect(fs.statSync(f).size).toBeLessThan(64 * 1024 + 32 * 1024);
      const cast = readCast(f);
      expect(cast.header.x_symposium).toMatchObject({ id: 'rot', part: Number(path.basename(f).split('.')[1]) });
      expect(cast.events[0]).toEqual([0, 'm', 'screen at the start of this part']);
      expect(cast.events[1]![1]).toBe('o');
      const played = asciinemaCat(f);
      expect(played.status, played.stderr).toBe(0);
      joined += cast.events.slice(2).filter((e) => e[1] === 'o').map((e) => e[2]).join('');
    }
    // The parts' output, their opening screens aside, is the end of what the agent printed, whole.
    expect(joined.length).toBeGreaterThan(200 * 1024);
    expect(printed.endsWith(joined)).toBe(true);
    // A part begins where a chunk of output did: whole lines after the first.
    expect(joined.split('\r\n').slice(1, -1).every((l) => /^line \d{5} \.{60}$/.test(l))).toBe(true);

    const out = path.join(s.dir, 'all.cast');
    expect(s.run(['agent', 'record', 'rot', '-o', out]).code).toBe(0);
    const exported = readCast(out);
    expect(exported.header.x_symposium).toBeUndefined();
    expect(markers(exported)).toEqual(['screen at the start of this part', 'exit code 0']);
    expect(output(exported).endsWith(joined)).toBe(true);
    expect(exported.header.duration).toBe(exported.events.at(-1)![0]);
    const played = asciinemaCat(out);
    expect(played.status, played.stderr).toBe(0);
    expect(played.stdout.endsWith(joined)).toBe(true);
    // `record` to stdout is the same file.
    expect(s.run(['agent', 'record', 'rot']).stdout).toBe(fs.readFileSync(out, 'utf8'));

    // The log holds the lines the recording keeps, in order, none twice, to the last one;
    // the first part's opening screen gives the lines before it, and the start of the
    // line it goes on with.
    const log = s.run(['agent', 'logs', 'rot']).stdout.trimEnd().split('\n');
    const first = Number(/^line (\d+) \.{60}$/.exec(log[0]!)![1]);
    expect(log).toEqual(lines.slice(first).map((l) => l.trimEnd()));
    expect(joined.startsWith(lines[first + 40]!.replace('\n', '\r\n'))).toBe(false);
  });

  it('logs: a progress bar leaves its last state, colours go, --lines, --since and --timestamps', async () => {
    const s = sandbox();
    const bar = Array.from({ length: 21 }, (_, i) => `\r\x1b[36mbuilding\x1b[0m [${'#'.repeat(i).padEnd(20)}] ${i * 5}%`);
    spawnOk(s, 'bar', writer(['start\n', ...bar, '\n\x1b[1mdone\x1b[0m\n'], 5));
    await waitExit(s, 'bar');
    expect(s.run(['agent', 'logs', 'bar'])).toEqual({ code: 0, stdout: `start\nbuilding [${'#'.repeat(20)}] 100%\ndone\n`, stderr: '' });
    expect(s.run(['agent', 'logs', 'bar', '--lines', '1']).stdout).toBe('done\n');
    expect(s.run(['agent', 'logs', 'bar', '--since', '1h']).stdout.split('\n')).toHaveLength(4);
    expect(s.run(['agent', 'logs', 'bar', '--since', new Date(Date.now() + 60_000).toISOString()]).stdout).toBe('');
    const stamped = s.run(['agent', 'logs', 'bar', '-t', '-n', '1']).stdout;
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z done\n$/);
    expect(Math.abs(Date.parse(stamped.split(' ')[0]!) - Date.now())).toBeLessThan(60_000);
    const bad = s.run(['agent', 'logs', 'bar', '--since', 'yesterday-ish']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Invalid time "yesterday-ish"/);
  });

  it('logs of a flood: every line, in order, nothing dropped', async () => {
    const s = sandbox();
    spawnOk(s, 'flood', ['seq', '1', '300000']);
    await waitExit(s, 'flood');
    // 1.9 MB of text: more than spawnSync takes.
    const log = await s.runAsync(['agent', 'logs', 'flood']);
    expect(log.code, log.stderr).toBe(0);
    const got = log.stdout.split('\n');
    expect(got.pop()).toBe('');
    expect(got.length).toBe(300000);
    expect(got.every((l, i) => l === String(i + 1))).toBe(true);
    expect(s.run(['agent', 'logs', 'flood', '-n', '2']).stdout).toBe('299999\n300000\n');
    for (const f of parts(s, 'flood')) expect(markers(readCast(f)).filter((m) => m.startsWith('not recorded'))).toEqual([]);
  });

  it('logs --follow streams the lines as they come, until the agent exits', async () => {
    const s = sandbox();
    spawnOk(s, 'fol', ['sh', '-c', 'stty -echo; echo first; read a; echo second; read b; printf "third\\nno newline"; exit 0']);
    const child: ChildProcess = spawn(CLI, ['agent', 'logs', 'fol', '--follow'], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(() => out === 'first\n', 15_000);
      expect(s.run(['agent', 'send', 'fol', '--key', 'Enter']).code).toBe(0);
      await waitFor(() => out === 'first\nsecond\n', 15_000);
      expect(s.run(['agent', 'send', 'fol', '--key', 'Enter']).code).toBe(0);
      expect(await exited).toBe(0);
      expect(out).toBe('first\nsecond\nthird\nno newline\n');
      // What --follow printed is the log.
      expect(s.run(['agent', 'logs', 'fol']).stdout).toBe(out);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('the library: logs, followLogs until the exit or an abort, recording', async () => {
    const s = sandbox();
    const client = new (lib().SymposiumClient)({ env: s.env });
    await client.spawn({ id: 'api', workdir: s.work, command: ['sh', '-c', 'stty -echo; echo one; read a; echo two; read b'], idleMs: 300 });
    await client.wait('api', { until: 'text', pattern: 'one' }, { timeout: 10_000 });
    const abort = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const l of client.followLogs('api', { signal: abort.signal })) {
        seen.push(l.text);
        expect(l.time).toMatch(/Z$/);
      }
    })();
    await waitFor(() => seen.length === 1);
    await client.send('api', { enter: true });
    await waitFor(() => seen.length === 2);
    abort.abort();
    await following;
    expect(seen).toEqual(['one', 'two']);
    expect((await client.logs('api', { lines: 1 })).map((l) => l.text)).toEqual(['two']);
    await client.send('api', { enter: true });
    await client.wait('api', { until: 'exit' }, { timeout: 10_000 });
    const cast = await client.recording('api');
    expect(cast.split('\n')[0]).toMatch(/^\{"version":2,/);
    expect(cast).toContain('"exit code 0"');
    const after: string[] = [];
    for await (const l of client.followLogs('api')) after.push(l.text);
    expect(after).toEqual(['one', 'two']);
  });

  it('not recorded: --no-record, SYMPOSIUM_RECORD=0, and tmux sessions say so', async () => {
    const s = sandbox();
    spawnOk(s, 'off', ['sleep', '300'], ['--no-record']);
    spawnOk(s, 'env', ['sleep', '300'], []);
    const envOff = s.run(['agent', 'spawn', '--uuid', 'env0', '--workdir', s.work, '--', 'sleep', '300'], { env: { SYMPOSIUM_RECORD: '0' } });
    expect(envOff.code).toBe(0);
    expect(parts(s, 'off')).toEqual([]);
    expect(parts(s, 'env0')).toEqual([]);
    await waitFor(() => parts(s, 'env').length === 1);
    for (const id of ['off', 'env0']) {
      const r = s.run(['agent', 'logs', id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`Agent session ${id} is not recorded: it was spawned with --no-record`));
      expect(s.run(['agent', 'record', id]).code).toBe(1);
    }
    const t = s.run(['agent', 'spawn', '--uuid', 'tm', '--workdir', s.work, '--backend', 'tmux', '--', 'sleep', '300']);
    expect(t.code, t.stderr).toBe(0);
    const r = s.run(['agent', 'logs', 'tm']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/runs on the tmux backend, which records nothing: recordings .* are a feature of the pty backend/);
  });
});
