import { describe, expect, it } from 'vitest';
import {
  CLIENT_MESSAGE_TYPES,
  MessageError,
  SERVER_MESSAGE_TYPES,
  UnsupportedRequest,
  decodeClientMessage,
  decodeServerMessage,
  wireForm,
} from '../../src/protocol/messages';
import { OPS, OP_NAMES } from '../../src/protocol/ops';

// The decoders of protocol/messages.ts and ops.ts: every message checked once, where it is
// decoded; a wrong field named; unknown types ignored; unknown ops unsupported.

const hello = { t: 'hello', protocol: 1, client: 'unit', mode: 'attach', readOnly: false, cols: 80, rows: 24, features: [] };

describe('client message decoders', () => {
  it('decodes every client message type', () => {
    expect(decodeClientMessage(hello)).toMatchObject({ t: 'hello', mode: 'attach', cols: 80, rows: 24, terminal: null });
    expect(decodeClientMessage({ t: 'input', data: 'ab' })).toEqual({ t: 'input', data: Buffer.from('ab') });
    expect(decodeClientMessage({ t: 'resize', cols: 100, rows: 30 })).toEqual({ t: 'resize', cols: 100, rows: 30 });
    expect(decodeClientMessage({ t: 'detach' })).toEqual({ t: 'detach' });
    expect(decodeClientMessage({ t: 'redraw' })).toEqual({ t: 'redraw' });
    expect(decodeClientMessage({ t: 'request', id: 7, op: 'status' })).toEqual({ t: 'request', id: 7, call: { op: 'status', args: {} } });
    expect(CLIENT_MESSAGE_TYPES).toEqual(['hello', 'input', 'resize', 'detach', 'redraw', 'request']);
    // Optional fields newer clients send; absent from older ones.
    expect(decodeClientMessage(hello)).toMatchObject({ redraw: false });
    expect(decodeClientMessage({ ...hello, redraw: true })).toMatchObject({ redraw: true });
  });

  it('ignores unknown types, Object.prototype names included', () => {
    expect(decodeClientMessage({ t: 'future-thing', x: 1 })).toBeNull();
    expect(decodeClientMessage({ t: 'constructor' })).toBeNull();
    expect(decodeClientMessage({ t: '__proto__' })).toBeNull();
  });

  it('names the field that is wrong', () => {
    expect(() => decodeClientMessage({ t: 'resize', cols: 0, rows: 10 })).toThrow('resize.cols must be from 1 to 1000');
    expect(() => decodeClientMessage({ t: 'input', data: 5 })).toThrow('input.data must be binary (or a string)');
    expect(() => decodeClientMessage({ ...hello, terminal: { path: 'rel', dev: 1, ino: 2 } })).toThrow('hello.terminal.path must be an absolute path');
    expect(() => decodeClientMessage([1])).toThrow(MessageError);
    expect(() => decodeClientMessage({ nope: 1 })).toThrow('a message must have a string field "t"');
  });

  it('another protocol version decodes to a hello that gets version-mismatch, whatever its fields', () => {
    expect(decodeClientMessage({ t: 'hello', protocol: 2, mode: 'weird', cols: 'x' })).toMatchObject({ t: 'hello', protocol: 2 });
  });

  it('an unknown op is unsupported (answered, not fatal); a missing op is malformed', () => {
    try {
      decodeClientMessage({ t: 'request', id: 3, op: 'teleport' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UnsupportedRequest);
      expect((err as UnsupportedRequest).id).toBe(3);
    }
    expect(() => decodeClientMessage({ t: 'request', id: 3, op: 'wait', until: 'tomorrow' })).toThrow(UnsupportedRequest);
    expect(() => decodeClientMessage({ t: 'request', id: 3 })).toThrow('request.op must be a string');
    expect(() => decodeClientMessage({ t: 'request', id: 3, op: 'toString' })).toThrow(UnsupportedRequest);
  });

  it("decodes each op's arguments with their defaults, and flattens them on the way out", () => {
    const cases: Array<[Record<string, unknown>, unknown]> = [
      [{ op: 'capture' }, { lines: null, scrollback: false, ansi: false, since: null }],
      [{ op: 'send', data: 'x', keys: ['\r'] }, { data: Buffer.from('x'), paste: false, keys: [Buffer.from('\r')], keyNames: null, task: false }],
      [{ op: 'send', data: '', keys: ['\r'], keyNames: ['Enter'] }, { data: Buffer.from(''), paste: false, keys: [Buffer.from('\r')], keyNames: ['Enter'], task: false }],
      [{ op: 'kill' }, { graceMs: 3000 }],
      [{ op: 'queue-add', text: 'do it' }, { text: 'do it' }],
      [{ op: 'wait', until: 'idle', idleMs: 0 }, { until: 'idle', idleMs: 0, timeoutMs: null }],
      [{ op: 'wait', until: 'text', pattern: 'a+' }, { until: 'text', pattern: 'a+', flags: '', timeoutMs: null }],
    ];
    for (const [fields, args] of cases) {
      const m = decodeClientMessage({ t: 'request', id: 1, ...fields });
      expect(m).toEqual({ t: 'request', id: 1, call: { op: fields.op, args } });
      expect(decodeClientMessage(wireForm(m!))).toEqual(m);
    }
  });
});

describe('the op table', () => {
  it('marks exactly the ops that change something as refused to read-only connections', () => {
    const mutating = OP_NAMES.filter((op) => OPS[op].mutates).sort();
    expect(mutating).toEqual(['kill', 'queue-add', 'queue-clear', 'send', 'signal']);
  });

  it('reply decoders check replies and tolerate fields a newer supervisor adds', () => {
    expect(OPS.capture.decodeReply({ text: 'hi', cols: 80, rows: 24, cursor: { x: 2, y: 0 }, final: false, extra: 1 })).toEqual({
      text: 'hi',
      cols: 80,
      rows: 24,
      cursor: { x: 2, y: 0 },
      final: false,
      firstLine: null,
      nextLine: null,
      skipped: 0,
      alternate: false,
    });
    expect(() => OPS.capture.decodeReply({ text: 'hi', cols: 80, rows: 24 })).toThrow('capture.cursor must be a map');
    expect(() => OPS.send.decodeReply(null)).toThrow('the send result must be a map');
    expect(OPS['queue-list'].decodeReply({ tasks: [{ index: 1, text: 't', state: 'someday', queuedAt: 5, deliveredAt: null }] })).toEqual({
      tasks: [{ index: 1, text: 't', state: 'queued', queuedAt: 5, typedAt: null, submittedAt: null, startedAt: null, doneAt: null, doneState: null, firstLine: null, endLine: null, deliveredAt: null, sent: false }],
    });
    expect(OPS.wait.decodeReply({ satisfied: true, ended: false, exitCode: null, exitSignal: null })).toEqual({
      satisfied: true,
      ended: false,
      exitCode: null,
      exitSignal: null,
      match: null,
      state: null,
      task: null,
    });
  });
});

describe('server message decoders', () => {
  it('decodes every server message type and ignores unknown ones', () => {
    const welcome = {
      t: 'welcome',
      protocol: 1,
      server: 's',
      features: [],
      session: { id: 'a', supervisorPid: 1, agentPid: 2, cols: 80, rows: 24, viewerId: 3, readOnly: false, terminal: false, terminalError: null },
    };
    const msgs: Array<Record<string, unknown>> = [
      welcome,
      { t: 'snapshot', seq: 1, cols: 80, rows: 24, reason: 'attach', data: 'x' },
      { t: 'leave', data: '\x1b[<1u' },
      { t: 'shown', seq: 1, cols: 80, rows: 24, reason: 'resync' },
      { t: 'detached', reason: 'key' },
      { t: 'output', seq: 2, data: Buffer.from('y') },
      { t: 'size', cols: 90, rows: 30 },
      { t: 'exit', code: 3, signal: null },
      { t: 'error', code: 'internal', message: 'm' },
      { t: 'response', id: 1, ok: true, result: { a: 1 }, error: null },
    ];
    expect(msgs.map((m) => decodeServerMessage(m)!.t)).toEqual(SERVER_MESSAGE_TYPES);
    // A snapshot from a supervisor older than `leave`: null, and the client writes the old reset.
    expect(decodeServerMessage(msgs[1]!)).toMatchObject({ leave: null });
    expect(decodeServerMessage({ ...msgs[1]!, leave: '\x1b[<2u' })).toMatchObject({ leave: '\x1b[<2u' });
    expect(decodeServerMessage({ t: 'later' })).toBeNull();
    expect(() => decodeServerMessage({ t: 'size', cols: 'wide', rows: 1 })).toThrow('size.cols');
  });
});
