import { afterEach, describe, expect, it } from 'vitest';
import type { SupervisorLink } from '../../src/link/supervisor-link';
import { ProtocolError } from '../../src/protocol/messages';
import { Sandbox, waitFor } from '../helpers/sandbox';
import { Viewer, captureJson, control, socketOf, status } from '../helpers/viewers-client';

// Read-only is enforced by the supervisor, not by the client: a raw protocol client that
// said readOnly in its hello and then sends input, resizes or asks for send/kill/queue
// is refused, and the agent never sees any of it.

let sb: Sandbox;
const viewers: Viewer[] = [];
const controls: SupervisorLink[] = [];
afterEach(() => {
  for (const v of viewers.splice(0)) v.close();
  for (const c of controls.splice(0)) c.close();
  sb?.dispose();
});

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as ProtocolError).code;
  }
  throw new Error('the request was accepted');
}

describe('read-only viewers', () => {
  it('input, resize, send, kill and queue from a read-only connection are refused by the supervisor', async () => {
    sb = new Sandbox();
    expect(
      sb.run(['agent', 'spawn', '--uuid', 'ro', '--workdir', sb.work, '--cols', '80', '--rows', '24', '--', 'bash', '--norc', '--noprofile', '-i'], {
        env: { PS1: 'P$ ' },
      }).code,
    ).toBe(0);
    const sock = socketOf(sb, 'ro');
    const agentPid = Number((await status(sock)).agentPid);

    const ro = await Viewer.attach(sock, { readOnly: true, cols: 50, rows: 10 });
    viewers.push(ro);
    expect(ro.welcome.session.readOnly).toBe(true);
    await waitFor(() => ro.snapshots.length > 0);
    // Its size was not taken, even as the only viewer.
    expect(ro.snapshots[0]).toMatchObject({ cols: 80, rows: 24 });

    // Stream frames: each refused with an error frame; the connection stays open.
    ro.input('echo RO-INPUT-RAN\r');
    ro.resize(40, 8);
    ro.input(Buffer.from('\x03'));
    await waitFor(() => ro.errors.length >= 3);
    expect(ro.errors.map((e) => e.code)).toEqual(['read-only', 'read-only', 'read-only']);
    expect(ro.closed).toBe(false);

    // Requests on the read-only viewer's own connection.
    expect(await refused(ro.client.request('send', { data: Buffer.from('echo RO-SEND-RAN\r'), paste: false, keys: [] }))).toBe('read-only');
    expect(await refused(ro.client.request('kill', { graceMs: 100 }))).toBe('read-only');
    // Looking is allowed.
    expect((await ro.client.request('status', {})).readOnlyViewers).toBe(1);

    // A read-only control connection: the same refusals; status, capture and queue-list work.
    const rc = await control(sock, true);
    controls.push(rc);
    expect(rc.welcome.session.readOnly).toBe(true);
    expect(await refused(rc.request('send', { data: Buffer.from('echo RC-SEND-RAN\r'), paste: true, keys: [] }))).toBe('read-only');
    expect(await refused(rc.request('kill', { graceMs: 100 }))).toBe('read-only');
    expect(await refused(rc.request('queue-add', { text: 'echo RC-QUEUE-RAN' }))).toBe('read-only');
    expect(await refused(rc.request('queue-clear', {}))).toBe('read-only');
    expect((await rc.request('queue-list', {})).tasks).toEqual([]);
    expect((await rc.request('capture', { lines: null, scrollback: false, ansi: false, since: null })).text).toBe('P$');
    // Input frames on a read-only control connection: refused too.
    rc.send({ t: 'input', data: Buffer.from('echo RC-INPUT-RAN\r') });

    // None of it reached the agent; it still runs at its own size.
    expect(await sb.runAsync(['agent', 'send', 'ro', 'echo writable-$((6*7))', '--enter'])).toMatchObject({ code: 0 });
    await waitFor(async () => (await captureJson(sb, 'ro')).text.includes('writable-42'), 10_000, 100);
    const cap = await captureJson(sb, 'ro');
    expect(cap.text).not.toMatch(/RAN/);
    expect(`${cap.cols}x${cap.rows}`).toBe('80x24');
    const s = await status(sock);
    expect(s).toMatchObject({ agentPid, ended: false, viewers: 1, readOnlyViewers: 1, queued: 0 });

    // The read-only viewer still sees everything, joined without a gap.
    await waitFor(async () => {
      await ro.flush();
      return ro.screenText() === (await captureJson(sb, 'ro')).text;
    }, 10_000, 100);
    expect(ro.gaps).toEqual([]);
  });
});
