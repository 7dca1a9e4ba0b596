import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type * as Api from '../../src/client';
import { ROOT, sandboxPerTest, waitFor } from '../helpers/sandbox';

// The client library as a program uses it: `require('symposium-mcp')` from the built
// package (its `exports`), against real supervisors. Every verb returns a typed result;
// an attach is a stream object an editor can draw in a terminal of its own.

const sandbox = sandboxPerTest();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = () => require(path.join(ROOT, 'dist', 'client', 'index.js')) as typeof Api;

describe('the client library', () => {
  it('spawns, lists, sends, captures, waits, reports status, attaches as a stream and kills', async () => {
    const sb = sandbox();
    const client = new (lib().SymposiumClient)({ env: { ...sb.env, PS1: 'P$ ' } });
    const info = await client.spawn({ id: 'lib', workdir: sb.work, command: ['bash', '--norc', '--noprofile'], cols: 90, rows: 20 });
    expect(info).toMatchObject({ id: 'lib', backend: 'pty', status: 'Running', command: ['bash', '--norc', '--noprofile'], workdir: sb.work });
    expect(info.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    const list = await client.list();
    expect(list.map((a) => a.id)).toEqual(['lib']);
    expect(list[0]).toMatchObject({ cols: 90, rows: 20, viewers: 0 });

    await client.send('lib', { text: 'echo hello-$((6*7))', enter: true });
    const seen = await client.wait('lib', { until: 'text', pattern: /hello-42/ }, { timeout: 10_000 });
    expect(seen).toMatchObject({ satisfied: true, match: 'hello-42' });
    const cap = await client.capture('lib', { lines: 3 });
    expect(cap.text).toContain('hello-42');
    expect(cap).toMatchObject({ id: 'lib', status: 'Running', cols: 90, rows: 20, final: false });

    const st = await client.status('lib');
    expect(st).toMatchObject({ id: 'lib', cols: 90, rows: 20, viewers: 0, queued: 0 });
    expect(typeof st.supervisorPid).toBe('number');

    // An attach as a stream: the replay, then live output; keys typed; a resize.
    const stream = await client.attach('lib', { cols: 100, rows: 25 });
    let text = '';
    stream.onData((d) => (text += d));
    await waitFor(() => text.includes('hello-42'));
    expect(text.startsWith('\x1b[?1049l')).toBe(true); // the reset before the replay
    await waitFor(() => stream.cols === 100 && stream.rows === 25);
    stream.write('echo from-the-stream\r');
    await waitFor(() => text.includes('from-the-stream\r\n'));
    expect((await client.status('lib')).viewers).toBe(1);
    const ended = new Promise<Api.StreamEnd>((r) => stream.onExit(r));
    stream.detach();
    expect(await ended).toEqual({ reason: 'detached' });
    await waitFor(async () => (await client.status('lib')).viewers === 0);

    // A wait given up by its caller.
    const abort = new AbortController();
    const pending = client.wait('lib', { until: 'exit' }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 200);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    // Errors are SymposiumErrors with the CLI's texts.
    await expect(client.capture('nope')).rejects.toThrow('Agent session nope not found');
    await expect(client.capture('nope')).rejects.toBeInstanceOf(lib().SymposiumError);

    await client.kill('lib');
    expect(await client.list()).toEqual([]);
  });

  it('the stream ends with the exit code when the agent exits; a read-only stream neither types nor resizes', async () => {
    const sb = sandbox();
    const client = new (lib().SymposiumClient)({ env: sb.env });
    await client.spawn({ id: 'ro', workdir: sb.work, command: ['sh', '-c', 'read x; exit 5'], cols: 80, rows: 24 });
    const ro = await client.attach('ro', { cols: 50, rows: 10, readOnly: true });
    const end = new Promise<Api.StreamEnd>((r) => ro.onExit(r));
    ro.write('ignored\n');
    ro.resize(40, 8);
    await new Promise((r) => setTimeout(r, 300));
    expect(await client.status('ro')).toMatchObject({ cols: 80, rows: 24, status: 'Running' });
    await client.send('ro', { enter: true });
    expect(await end).toEqual({ reason: 'exit', code: 5, signal: null });
  });

  it('loads no native module (an editor extension must not load node-pty)', () => {
    const sb = sandbox();
    const script = `
      const lib = require(${JSON.stringify(path.join(ROOT, 'dist', 'client', 'index.js'))});
      new lib.SymposiumClient().list().then((l) => {
        const native = Object.keys(require.cache).filter((f) => f.endsWith('.node') || f.includes('node-pty'));
        process.stdout.write(JSON.stringify({ n: l.length, native }));
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { env: sb.env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ n: 0, native: [] });
  });
});
