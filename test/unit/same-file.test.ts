import { describe, expect, it } from 'vitest';
import { encodeFile, sameFile } from '../../src/store/codec';
import type { SessionMap, SessionRecord } from '../../src/store/types';

// sameFile stands for `encodeFile(a) === encodeFile(b)` (sessions/sync.ts decides with it
// whether to write the file): both must agree on every kind of difference.

function rec(id: string, more: Partial<SessionRecord> = {}): SessionRecord {
  return {
    uuid: id,
    tmux_session_name: `symposium-agent-${id}`,
    agent_command: ['cat'],
    working_directory: '/tmp',
    status: 'Running',
    created_at: { secs_since_epoch: 1, nanos_since_epoch: 2 },
    last_attached: null,
    backend: 'pty',
    supervisor_pid: 10,
    ...more,
  };
}

const map = (...recs: SessionRecord[]): SessionMap => new Map(recs.map((r) => [r.uuid, r]));

describe('sameFile', () => {
  const base = map(rec('a'), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }));
  const variants: Array<[string, SessionMap]> = [
    ['identical copy', structuredClone(base)],
    ['another status', map(rec('a', { status: 'Stopped' }), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }))],
    ['an optional field set to undefined', map(rec('a', { supervisor_pid: undefined }), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }))],
    ['an optional field set to null', map(rec('a', { supervisor_pid: null }), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }))],
    ['an optional field added as undefined', map(rec('a', { exit_code: undefined }), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }))],
    ['the records in another order', map(rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }), rec('a'))],
    ['extra fields in another order', map(rec('a'), rec('b', { extra: { y: [1, { z: 2 }], x: 1 } }))],
    ['a nested extra value changed', map(rec('a'), rec('b', { extra: { x: 1, y: [1, { z: 3 }] } }))],
    ['an extra field holding undefined', map(rec('a'), rec('b', { extra: { x: 1, y: [1, { z: 2 }], w: undefined } }))],
    ['an extra field named as an unset optional one', map(rec('a', { extra: { exit_code: 5 } }), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }))],
    ['an extra field named as a set optional one', map(rec('a', { extra: { supervisor_pid: 5 } }), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }))],
    ['a record more', map(rec('a'), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }), rec('c'))],
    ['a longer command', map(rec('a', { agent_command: ['cat', '-v'] }), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }))],
    ['another time', map(rec('a', { created_at: { secs_since_epoch: 1, nanos_since_epoch: 3 } }), rec('b', { extra: { x: 1, y: [1, { z: 2 }] } }))],
  ];
  for (const [name, other] of variants) {
    it(`agrees with encodeFile: ${name}`, () => {
      const same = encodeFile(base) === encodeFile(other);
      expect(sameFile(base, other)).toBe(same);
      expect(sameFile(other, base)).toBe(same);
    });
  }
  it('tells a change apart (not everything compares equal)', () => {
    expect(variants.filter(([, m]) => !sameFile(base, m)).length).toBeGreaterThan(5);
  });
});
