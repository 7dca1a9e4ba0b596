import { UserError } from '../../errors';
import { Recording } from '../../recording/limits';
import { LogReader } from '../../recording/log-reader';
import type { LogLine } from '../../recording/plain-text';
import { RecordingTail } from '../../store/recording-tail';
import type { Context } from '../context';
import type { LogEntry, LogOptions } from '../types';
import { recordingSource } from './recording-source';

// `agent logs`: what the agent printed, as plain text, from its recording (so after the
// exit too, and as far back as the recording goes), like `docker logs`. With follow, the
// lines go on as the agent prints them until it exits.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a time (ISO 8601, a Date, ms since the epoch) or a span back from now (`10m`, `2h`, `90s`). */
export function sinceMs(since: LogOptions['since'], now = Date.now()): number | null {
  if (since === undefined) return null;
  if (since instanceof Date) return since.getTime();
  if (typeof since === 'number' && Number.isFinite(since)) return since;
  if (typeof since === 'string') {
    const rel = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(since);
    if (rel) return now - Number(rel[1]) * UNITS[rel[2]!]!;
    const t = Date.parse(since);
    if (!Number.isNaN(t)) return t;
  }
  throw new UserError(`Invalid time ${JSON.stringify(since)}: give an ISO 8601 time (2026-12-06T12:00:00Z) or a span back from now (30s, 10m, 2h, 1d)`);
}

function checkLines(n: number | undefined): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new UserError('lines must be a whole number');
}

/** Lines printed by one chunk share its time: its text is made once (300 000 lines: 158 ms of 1.1 s before). */
let lastAt = NaN;
let lastIso = '';
function entry(l: LogLine): LogEntry {
  if (l.at !== lastAt) {
    lastAt = l.at;
    lastIso = new Date(l.at).toISOString();
  }
  return { time: lastIso, text: l.text };
}

/** The log as it is now. */
export async function logs(ctx: Context, rawId: string, opts: LogOptions = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of logLines(ctx, rawId, opts, false)) out.push(e);
  return out;
}

/** The log as it is, then each line as the agent prints it, until it exits (or `signal` aborts). */
export function followLogs(ctx: Context, rawId: string, opts: LogOptions & { signal?: AbortSignal } = {}): AsyncGenerator<LogEntry> {
  return logLines(ctx, rawId, opts, true, opts.signal);
}

async function* logLines(ctx: Context, rawId: string, opts: LogOptions, follow: boolean, signal?: AbortSignal): AsyncGenerator<LogEntry> {
  checkLines(opts.lines);
  const since = sinceMs(opts.since);
  const { source } = await recordingSource(ctx, rawId);
  if (!follow) await source.written();
  const tail = new RecordingTail(source.dir);
  let ready: LogLine[] = [];
  const reader = new LogReader((l) => {
    if (since === null || l.at >= since) ready.push(l);
  });
  const take = () => {
    const r = ready;
    ready = [];
    return r;
  };
  try {
    // What is there now: all of it, or its last `lines` lines.
    for await (const item of tail.read()) reader.add(item);
    if (!follow || reader.ended) reader.end();
    else reader.settle();
    const history = take();
    for (const l of opts.lines === undefined ? history : history.slice(Math.max(0, history.length - opts.lines))) yield entry(l);
    if (!follow || reader.ended) return;
    // Then on, until the exit marker, or until the supervisor has gone (it may have died
    // without one): a last read, and the end.
    for (;;) {
      if (!(await pause(Recording.FollowPollMs, signal))) return;
      let got = false;
      for await (const item of tail.read()) {
        reader.add(item);
        got = true;
      }
      if (!got && !reader.ended) {
        if (!source.live()) {
          for await (const item of tail.read()) reader.add(item);
          reader.ended = true;
        } else reader.settle(); // output paused: the lines above the cursor now
      }
      if (reader.ended) reader.end();
      for (const l of take()) yield entry(l);
      if (reader.ended) return;
    }
  } finally {
    await tail.close();
  }
}

/** Waits; false when the signal aborted. */
function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
