import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLIENT_MESSAGE_TYPES, SERVER_MESSAGE_TYPES } from '../../src/protocol/messages';
import { OPS, OP_NAMES } from '../../src/protocol/ops';
import { decodeLiveStatus } from '../../src/store/live-status';

// protocol.md must describe every message type and every request op the code knows: a
// message or an op added without its section fails here (the compiler already fails one
// added without its decoder or its handler).

const DOC = fs.readFileSync(path.join(__dirname, '..', '..', 'protocol.md'), 'utf8');

function section(title: RegExp): string {
  const lines = DOC.split('\n');
  const start = lines.findIndex((l) => title.test(l));
  if (start < 0) throw new Error(`protocol.md has no section ${title}`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

describe('protocol.md', () => {
  it('has a section for every client message type, in §6', () => {
    const s6 = section(/^## 6\. /);
    for (const t of CLIENT_MESSAGE_TYPES) expect(s6, `### \`${t}\``).toContain(`### \`${t}\``);
  });

  it('has a section for every supervisor message type, in §7', () => {
    const s7 = section(/^## 7\. /);
    for (const t of SERVER_MESSAGE_TYPES) expect(s7, `### \`${t}\``).toContain(`### \`${t}\``);
  });

  it('has exactly one row per request op in the op table of §9', () => {
    const s9 = section(/^## 9\. /);
    const lines = s9.split('\n');
    const head = lines.findIndex((l) => /^\| op \| arguments \| result \|/.test(l));
    expect(head, 'the op table of §9').toBeGreaterThanOrEqual(0);
    const rows: string[] = [];
    for (const l of lines.slice(head + 2)) {
      const m = /^\| `([a-z-]+)` \|/.exec(l);
      if (!m) break;
      rows.push(m[1]!);
    }
    expect(rows.sort()).toEqual([...OP_NAMES].sort());
  });

  it('lists read-only refusals exactly as the op table marks them', () => {
    const s9 = section(/^## 9\. /);
    const m = /Read-only connections may use (.+?); (.+?) fail with `read-only`/s.exec(s9);
    expect(m, 'the read-only sentence of §9').not.toBeNull();
    const names = (text: string) => [...text.matchAll(/`([a-z-]+)`/g)].map((x) => x[1]!).sort();
    expect(names(m![1]!)).toEqual(OP_NAMES.filter((op) => !OPS[op].mutates).sort());
    expect(names(m![2]!)).toEqual(OP_NAMES.filter((op) => OPS[op].mutates).sort());
  });

  it('describes every field of the status file, in §1, and only those', () => {
    const s1 = section(/^## 1\. /);
    const start = s1.indexOf('**Status file.**');
    expect(start, 'the status file in §1').toBeGreaterThanOrEqual(0);
    const rows = s1
      .slice(start)
      .split('\n')
      .filter((l) => /^ {2}\| `/.test(l))
      .flatMap((l) => [...l.split('|')[1]!.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!));
    const sample = decodeLiveStatus({
      v: 1, id: 'a1', createdAtMs: 1, supervisorPid: 2, supervisorStarted: '3', agentPid: 4, cols: 80, rows: 24, viewers: 0,
      lastOutputAt: null, activity: 'idle', state: 'idle', stateReason: 'quiet for 2 s', stateSince: 5, queued: 0, ended: false, exitCode: null, exitSignal: null,
    });
    expect(sample).not.toBeNull();
    expect(rows.sort()).toEqual(Object.keys(sample!).sort());
  });
});
