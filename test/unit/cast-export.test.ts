import { describe, expect, it } from 'vitest';
import { SNAPSHOT_MARKER } from '../../src/recording/asciicast';
import { CastJoiner } from '../../src/recording/export';

// `agent record`: a session's parts joined into one asciicast file that asciinema plays.

describe('joining parts', () => {
  const header = (part: number, startMs: number, width = 80) => ({
    kind: 'header' as const,
    part,
    header: { version: 2 as const, width, height: 24, timestamp: Math.floor(startMs / 1000), x_symposium: { id: 'a', part, startMs, input: false } },
  });
  const ev = (part: number, time: number, code: 'o' | 'm' | 'r', data: string) => ({ kind: 'event' as const, part, event: { time, code, data } });

  it('makes one header and continuous times, drops later parts’ opening screens, keeps the first', () => {
    const j = new CastJoiner();
    for (const item of [
      header(2, 10_000),
      ev(2, 0, 'm', SNAPSHOT_MARKER),
      ev(2, 0, 'o', 'SCREEN2'),
      ev(2, 0.5, 'o', 'a'),
      ev(2, 1.5, 'o', 'b'),
      header(3, 12_000, 100),
      ev(3, 0, 'm', SNAPSHOT_MARKER),
      ev(3, 0, 'o', 'SCREEN3'),
      ev(3, 0.25, 'o', 'c'),
      ev(3, 1, 'm', 'exit code 0'),
    ])
      j.add(item);
    const lines = j.finish()!.trimEnd().split('\n');
    const head = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(head).toMatchObject({ version: 2, width: 80, height: 24, duration: 3 });
    expect(head.x_symposium).toBeUndefined();
    expect(lines.slice(1).map((l) => JSON.parse(l) as unknown)).toEqual([
      [0, 'm', SNAPSHOT_MARKER],
      [0, 'o', 'SCREEN2'],
      [0.5, 'o', 'a'],
      [1.5, 'o', 'b'],
      [2, 'r', '100x24'],
      [2.25, 'o', 'c'],
      [3, 'm', 'exit code 0'],
    ]);
  });

  it('has nothing to give without a part', () => {
    expect(new CastJoiner().finish()).toBeNull();
  });
});
