import type { ErrorCode, Request } from '../protocol/messages';
import { TextPattern } from '../text-pattern';
import type { Connection } from './viewers/connection';
import type { Supervisor } from './supervisor';

// Control requests (protocol.md, "Requests"): status, capture, send, kill, the task
// queue and wait. Each gets exactly one response with the request's id.

function ok(c: Connection, id: number, result: Record<string, unknown>): void {
  c.send({ t: 'response', id, ok: true, result, error: null });
}

function fail(c: Connection, id: number, code: ErrorCode, message: string): void {
  c.send({ t: 'response', id, ok: false, result: null, error: { code, message } });
}

export function statusOf(sup: Supervisor): Record<string, unknown> {
  const viewers = [...sup.conns].filter((c) => c.isViewer);
  return {
    id: sup.config.id,
    supervisorPid: process.pid,
    agentPid: sup.agent.pid,
    cols: sup.screen.cols,
    rows: sup.screen.rows,
    sizePolicy: sup.config.sizePolicy,
    viewers: viewers.length,
    readOnlyViewers: viewers.filter((c) => c.readOnly).length,
    lastOutputAt: sup.activity.lastOutputAt || null,
    idleMs: sup.config.idleMs,
    activity: sup.ended ? null : sup.activity.isIdle() ? 'idle' : 'working',
    title: sup.screen.modes.windowTitle,
    seq: sup.screen.seq,
    ended: sup.ended,
    exitCode: sup.exitInfo?.code ?? null,
    exitSignal: sup.exitInfo?.signal ?? null,
    queued: sup.queue.list().filter((t) => t.state === 'queued').length,
    connections: sup.conns.size,
    bufferedBytes: [...sup.conns].reduce((n, c) => n + c.bufferedBytes, 0),
  };
}

export function handleRequest(sup: Supervisor, c: Connection, r: Request): void {
  if (c.readOnly && (r.op === 'send' || r.op === 'kill' || r.op === 'queue-add' || r.op === 'queue-clear')) {
    return fail(c, r.id, 'read-only', `a read-only connection cannot ${r.op}`);
  }
  switch (r.op) {
    case 'status':
      return ok(c, r.id, statusOf(sup));
    case 'capture': {
      // Capture what is parsed up to now, after pending output has been parsed.
      void sup.screen.flush().then(() => {
        const cap = sup.screen.capture({ lines: r.lines, scrollback: r.scrollback, ansi: r.ansi });
        ok(c, r.id, { text: cap.text, cols: cap.cols, rows: cap.rows, cursor: cap.cursor, final: sup.ended });
      });
      return;
    }
    case 'send':
      if (sup.ended) return fail(c, r.id, 'exited', 'the agent has exited');
      void sup
        .type([{ data: Buffer.from(r.data), paste: r.paste }, ...r.keys.map((k) => ({ data: Buffer.from(k), paste: false }))])
        .then(() => ok(c, r.id, { bytes: r.data.length + r.keys.reduce((n, k) => n + k.length, 0) }));
      return;
    case 'kill':
      void sup.terminate(r.graceMs).then(() => ok(c, r.id, { exitCode: sup.exitInfo?.code ?? null, exitSignal: sup.exitInfo?.signal ?? null }));
      return;
    case 'queue-add': {
      if (sup.ended) return fail(c, r.id, 'exited', 'the agent has exited');
      const t = sup.queue.add(r.text);
      sup.delivery.schedule();
      return ok(c, r.id, { task: t });
    }
    case 'queue-list':
      return ok(c, r.id, { tasks: sup.queue.list() });
    case 'queue-clear':
      return ok(c, r.id, { cleared: sup.queue.clear() });
    case 'wait': {
      if (r.until === 'text') {
        let re: TextPattern;
        try {
          re = TextPattern.compile(r.pattern, r.flags);
        } catch (err) {
          return fail(c, r.id, 'bad-request', `invalid pattern: ${(err as Error).message}`);
        }
        return sup.waits.add(c, r.id, { until: 'text', re }, r.timeoutMs);
      }
      if (r.until === 'idle') {
        // idleMs 0 in the request means "the session's own threshold"
        return sup.waits.add(c, r.id, { until: 'idle', idleMs: r.idleMs || sup.config.idleMs }, r.timeoutMs);
      }
      return sup.waits.add(c, r.id, { until: 'exit' }, r.timeoutMs);
    }
  }
}
