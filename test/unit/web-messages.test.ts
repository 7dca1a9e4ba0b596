import { describe, expect, it } from 'vitest';
import type { AgentInfo } from '../../src/client/types';
import { agentState } from '../../src/web/agent-state';
import { screenFromCapture } from '../../src/web/capture-screen';
import { BadMessage, decodeBrowserMessage } from '../../src/web/messages';

// What a page may send, checked once: every message type with its fields, everything else
// refused. And what the list says of an agent's state.

describe('page messages', () => {
  it('decodes every message a page sends', () => {
    const ok: object[] = [
      { t: 'open', v: 3, id: 'agent_1-x' },
      { t: 'close' },
      { t: 'ack', n: 123456 },
      { t: 'type', cols: 80, rows: 24 },
      { t: 'watch' },
      { t: 'input', d: '\x1b[A' },
      { t: 'resize', cols: 1000, rows: 1 },
      { t: 'send', ref: 1, id: 'a', text: 'hello', keys: ['Enter', 'C-c'], enter: true },
      { t: 'queue', ref: 2, id: 'a', text: 'task' },
    ];
    for (const m of ok) expect(decodeBrowserMessage(JSON.stringify(m))).toEqual(m);
    // Fields a page adds that we do not know are dropped, not passed on.
    expect(decodeBrowserMessage(JSON.stringify({ t: 'ack', n: 1, extra: 'x' }))).toEqual({ t: 'ack', n: 1 });
  });

  it('refuses anything else, saying what is wrong', () => {
    const bad: Array<[string, string]> = [
      ['not json', 'not JSON'],
      ['[1,2]', 'not an object'],
      ['null', 'not an object'],
      ['{"t":"nope"}', 'unknown message type "nope"'],
      ['{}', 'unknown message type undefined'],
      ['{"t":"ack","n":-1}', 'ack: n must be a count'],
      ['{"t":"ack","n":1.5}', 'ack: n must be a count'],
      ['{"t":"ack","n":"1"}', 'ack: n must be a count'],
      ['{"t":"open","v":1,"id":"a/b"}', 'open: id must be an agent id'],
      [`{"t":"open","v":1,"id":"${'a'.repeat(65)}"}`, 'open: id must be an agent id'],
      ['{"t":"type","cols":1001,"rows":10}', 'type: cols must be 1 to 1000'],
      ['{"t":"resize","cols":10,"rows":0}', 'resize: rows must be 1 to 1000'],
      ['{"t":"input","d":5}', 'input: d must be text'],
      [`{"t":"input","d":"${'x'.repeat(256 * 1024 + 1)}"}`, 'input: d must be text'],
      ['{"t":"send","ref":1,"id":"a","text":"x","keys":"Enter","enter":true}', 'send: keys must be a list of key names'],
      ['{"t":"send","ref":1,"id":"a","text":"x","keys":[],"enter":"yes"}', 'send: enter must be true or false'],
      ['{"t":"queue","ref":1,"id":"a"}', 'queue: text must be text'],
    ];
    for (const [raw, why] of bad) {
      expect(() => decodeBrowserMessage(raw), raw.slice(0, 60)).toThrow(BadMessage);
      expect(() => decodeBrowserMessage(raw), raw.slice(0, 60)).toThrow(why);
    }
  });
});

describe('agent state', () => {
  const info = (over: Partial<AgentInfo>): AgentInfo => ({ status: 'Running', activity: null, ...over }) as AgentInfo;

  it('comes from the status and activity', () => {
    expect(agentState(info({ status: 'Starting' }))).toBe('starting');
    expect(agentState(info({ activity: 'working' }))).toBe('working');
    expect(agentState(info({ activity: 'idle' }))).toBe('idle');
    expect(agentState(info({ activity: null }))).toBe('unknown');
    expect(agentState(info({ status: 'Crashed' }))).toBe('exited');
    expect(agentState(info({ status: 'Stopped' }))).toBe('exited');
  });

  it('a state the library reports wins (blocked), an unknown one does not', () => {
    expect(agentState({ ...info({ activity: 'idle' }), state: 'blocked' } as AgentInfo)).toBe('blocked');
    expect(agentState({ ...info({ activity: 'idle' }), state: 'sleeping' } as unknown as AgentInfo)).toBe('idle');
  });
});

describe('a captured screen for the page', () => {
  const lines = { firstLine: null, nextLine: null, skipped: 0, alternate: false };
  it('is drawn from home, line by line, with the cursor where the agent left it', () => {
    const d = screenFromCapture({ id: 'a', status: 'Running', text: 'one\n\x1b[31mtwo\x1b[0m', cols: 80, rows: 24, cursor: { x: 4, y: 1 }, final: false, ...lines });
    expect(d).toBe('\x1b[H\x1b[2Jone\x1b[0m\r\n\x1b[31mtwo\x1b[0m\x1b[0m\x1b[2;5H');
    const none = screenFromCapture({ id: 'a', status: 'Running', text: 'a\nb\nc', cols: 80, rows: 2, cursor: null, final: true, ...lines });
    expect(none).toBe('\x1b[H\x1b[2Ja\x1b[0m\r\nb\x1b[0m');
  });
});
