import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CastItem, SNAPSHOT_MARKER, decodeEvent, decodeHeader } from '../../src/recording/asciicast';
import { Recording } from '../../src/recording/limits';
import { LogReader } from '../../src/recording/log-reader';
import { listRecordingParts } from '../../src/store/recording-files';
import { RecordingTail } from '../../src/store/recording-tail';
import type { ScreenNow } from '../../src/supervisor/recording/rotation';
import { type RecordingSink, startRecording } from '../../src/supervisor/recording/recorder';
import { BEFORE_REPLAY } from '../../src/terminal-modes';

// The recorder on real files with a stand-in for the mirror: parts and their rotation,
// the screen each later part begins with, what is dropped when the disk falls behind,
// and the tail that reads it all back.

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-rec-'));
  dirs.push(d);
  return d;
}

interface Mirror {
  snapshot(cb: (s: ScreenNow) => void): void;
  mirrorBacklog: number;
  flooding?: boolean;
}

function recorder(dir: string, mirror: Mirror, partBytes = 1000, parts = 3, input = false): RecordingSink {
  return startRecording({ id: 'u', dir, command: ['sh', '-c', 'echo hi'], cols: 80, rows: 24, settings: { enabled: true, input, partBytes, parts } }, { flooding: false, ...mirror });
}

/** Every line of a part, checked: a header, then events. */
function readPart(file: string): { header: NonNullable<ReturnType<typeof decodeHeader>>; events: Array<NonNullable<ReturnType<typeof decodeEvent>>> } {
  const text = fs.readFileSync(file, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const [first, ...rest] = text.slice(0, -1).split('\n');
  const header = decodeHeader(first!);
  expect(header, first).not.toBeNull();
  const events = rest.map((l) => {
    const e = decodeEvent(l);
    expect(e, l).not.toBeNull();
    return e!;
  });
  return { header: header!, events };
}

async function readAll(dir: string): Promise<CastItem[]> {
  const tail = new RecordingTail(dir);
  const items: CastItem[] = [];
  for await (const i of tail.read()) items.push(i);
  await tail.close();
  return items;
}

const syncScreen: Mirror = { snapshot: (cb) => cb({ cols: 80, rows: 24, bytes: Buffer.from('SCREEN\r\n'), after: [] }), mirrorBacklog: 0 };

describe('the recorder', () => {
  it('rotates at the part size, keeps the last parts, and each later part begins with the screen', async () => {
    const dir = tempDir();
    const rec = recorder(dir, syncScreen);
    for (let i = 0; i < 60; i++) rec.output(Buffer.from(`line ${String(i).padStart(3, '0')} ${'x'.repeat(80)}\r\n`));
    rec.resized(100, 30);
    await rec.ended({ code: 0, signal: null });
    // 60 lines of ~110 bytes in parts of 1000: seven or so parts made, the last three kept.
    const parts = listRecordingParts(dir);
    const lastPart = parts[2]!.part;
    expect(lastPart).toBeGreaterThan(5);
    expect(parts.map((p) => p.part)).toEqual([lastPart - 2, lastPart - 1, lastPart]);
    for (const p of parts) {
      expect(fs.statSync(p.path).mode & 0o777).toBe(0o600);
      const { header, events } = readPart(p.path);
      expect(header.x_symposium).toMatchObject({ id: 'u', part: p.part, input: false });
      expect(header).toMatchObject({ command: "sh -c 'echo hi'", env: { TERM: 'xterm-256color' } });
      expect(events.slice(0, 2)).toEqual([
        { time: 0, code: 'm', data: SNAPSHOT_MARKER },
        { time: 0, code: 'o', data: `${BEFORE_REPLAY}SCREEN\r\n` },
      ]);
      // About the part size: the events after the screen (each line ~100 bytes).
      const bytes = events.slice(2).reduce((n, e) => n + JSON.stringify([e.time, e.code, e.data]).length + 1, 0);
      expect(bytes).toBeLessThan(1000 + 200);
      expect(events.every((e, i) => i === 0 || e.time >= events[i - 1]!.time)).toBe(true);
    }
    const last = readPart(parts[2]!.path).events;
    expect(last.slice(-2).map((e) => [e.code, e.data])).toEqual([
      ['r', '100x30'],
      ['m', 'exit code 0'],
    ]);
    // The log of what is kept: the last lines, in order, none twice.
    const lines: string[] = [];
    const reader = new LogReader((l) => lines.push(l.text));
    for (const item of await readAll(dir)) reader.add(item);
    reader.end();
    expect(reader.ended).toBe(true);
    // The first part read opens on its screen (the stand-in's); then the lines, whole.
    expect(lines[0]).toBe('SCREEN');
    const nums = lines.slice(1).map((l) => Number(/^line (\d+)/.exec(l)?.[1]));
    expect(nums.at(-1)).toBe(59);
    expect(nums).toEqual(Array.from({ length: nums.length }, (_, i) => 60 - nums.length + i));
  });

  it('begins a part without the screen in a flood, or while the mirror is far behind', async () => {
    for (const mirror of [
      { mirrorBacklog: Recording.SnapshotMaxBacklog + 1, flooding: false },
      { mirrorBacklog: 0, flooding: true },
    ]) {
      const dir = tempDir();
      let asked = 0;
      const rec = recorder(dir, { snapshot: () => asked++, ...mirror });
      for (let i = 0; i < 30; i++) rec.output(Buffer.from(`${'y'.repeat(98)}\r\n`));
      await rec.ended({ code: 0, signal: null });
      expect(asked).toBe(0);
      const parts = listRecordingParts(dir);
      expect(parts.length).toBe(3);
      expect(readPart(parts[2]!.path).events[0]).toMatchObject({ code: 'o' });
    }
  });

  it('a screen that comes later includes the output received meanwhile, which the part before keeps too', async () => {
    const dir = tempDir();
    let pending: ((s: ScreenNow) => void) | null = null;
    const rec = recorder(dir, { snapshot: (cb) => (pending = cb), mirrorBacklog: 0 }, 1000, 4);
    rec.output(Buffer.from(`${'a'.repeat(1100)}\r\n`));
    rec.output(Buffer.from('b1\r\n')); // the part is full: the screen is asked for; this goes on in part 1
    rec.output(Buffer.from('b2\r\n'));
    expect(pending).not.toBeNull();
    pending!({ cols: 80, rows: 24, bytes: Buffer.from('SCREEN\r\n'), after: [{ data: Buffer.from('b1\r\n') }, { data: Buffer.from('b2\r\n') }] });
    rec.output(Buffer.from('c\r\n'));
    await rec.ended({ code: 2, signal: null });
    const [p1, p2] = listRecordingParts(dir);
    expect(readPart(p1!.path).events.map((e) => e.data).slice(-2)).toEqual(['b1\r\n', 'b2\r\n']);
    expect(readPart(p2!.path).events.map((e) => e.data)).toEqual([SNAPSHOT_MARKER, `${BEFORE_REPLAY}SCREEN\r\nb1\r\nb2\r\n`, 'c\r\n', 'exit code 2']);
    // Read as a log, nothing twice.
    const lines: string[] = [];
    const reader = new LogReader((l) => lines.push(l.text));
    for (const item of await readAll(dir)) reader.add(item);
    reader.end();
    expect(lines).toEqual(['a'.repeat(1100), 'b1', 'b2', 'c']);
  });

  it('drops output while the disk is behind, and says how much', async () => {
    const dir = tempDir();
    const rec = recorder(dir, syncScreen, 64 * 1024 * 1024, 4);
    const chunk = Buffer.alloc(64 * 1024, 'z');
    // All in one turn of the event loop: the writer cannot take any of it yet.
    const total = Recording.QueueBytes + 2 * 1024 * 1024;
    for (let n = 0; n < total; n += chunk.length) rec.output(chunk);
    await rec.written();
    rec.output(Buffer.from('after\r\n'));
    await rec.ended({ code: 0, signal: null });
    const { events } = readPart(listRecordingParts(dir)[0]!.path);
    const kept = events.filter((e) => e.code === 'o' && e.data.startsWith('z')).reduce((n, e) => n + e.data.length, 0);
    const marker = events.find((e) => e.code === 'm' && e.data.startsWith('not recorded'));
    expect(marker?.data).toBe(`not recorded: ${total - kept} bytes of output (the disk did not keep up)`);
    expect(kept).toBeGreaterThan(0);
    expect(events.at(-2)).toMatchObject({ code: 'o', data: 'after\r\n' });
  });

  it('records input only when asked', async () => {
    for (const input of [false, true]) {
      const dir = tempDir();
      const rec = recorder(dir, syncScreen, 100_000, 4, input);
      rec.input(Buffer.from('secret\r'));
      rec.taskDelivered(4);
      rec.viewerAttached(7, true);
      rec.viewerLeft(7);
      rec.viewerLeft(8); // never attached: nothing to say
      await rec.ended({ code: null, signal: 'SIGTERM' });
      const { header, events } = readPart(listRecordingParts(dir)[0]!.path);
      expect(header.x_symposium?.input).toBe(input);
      expect(events.map((e) => [e.code, e.data])).toEqual([
        ...(input ? [['i', 'secret\r']] : []),
        ['m', 'task 4 delivered'],
        ['m', 'viewer 7 attached read-only'],
        ['m', 'viewer 7 detached'],
        ['m', 'exit signal SIGTERM'],
      ]);
    }
  });
});
