import * as fs from 'node:fs';
import { UserError } from '../../errors';
import { ensurePrivateDir, runtimeDir, socketPath, symposiumHome } from '../../paths';
import {
  type SupervisorConfig,
  readExitRecord,
  readFinalScreen,
  readSupervisorConfig,
  sessionFiles,
} from '../../store/session-dir';
import { writeJsonAtomic } from '../../sys/atomic-write';
import { toMillis } from '../../store/time';
import { TextPattern, matchForUser } from '../../text-pattern';
import { type SessionRecord, isEnded } from '../../store/types';
import type {
  AttachOptions,
  Backend,
  CaptureOptions,
  CaptureResult,
  Discovered,
  Observation,
  ObserveOptions,
  QueueEntry,
  SendOptions,
  SpawnRequest,
  SpawnResult,
  WaitCondition,
  WaitResult,
} from '../backend';
import { ProtocolFailure, SupervisorClient } from './client';
import { groupMembers } from '../../sys/proc';
import { isSupervisorOf, orphanedAgentGroup } from './processes';
import { num, observationFromStatus, strOrNull } from './status';

// Loaded by the verbs that need them: `attach`, the most waited-for command, never does.
/* eslint-disable @typescript-eslint/no-require-imports */
const lazy = {
  startSupervisor: () => require('./start-supervisor') as typeof import('./start-supervisor'),
  discover: () => require('./discover') as typeof import('./discover'),
  queue: () => require('../../supervisor/driving/queue') as typeof import('../../supervisor/driving/queue'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

// The pty backend as the CLI sees it: start a supervisor, then talk to it on its socket.
// When the supervisor is gone, answers come from the files it left (exit record, final
// screen, queue).

export const DEFAULT_SCROLLBACK_LINES = 10_000;
export const DEFAULT_SCROLLBACK_BYTES = 32 * 1024 * 1024;
const KILL_GRACE_MS = 3000;

function groupAlive(pgid: number | null | undefined): boolean {
  return !!pgid && groupMembers(pgid).length > 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function connectControl(id: string, timeoutMs = 3000): Promise<SupervisorClient> {
  return SupervisorClient.connect(socketPath(id), { mode: 'control', timeoutMs });
}

/** Runs one request on a fresh control connection. */
async function ask(id: string, op: Parameters<SupervisorClient['request']>[0], timeoutMs: number | null = 30_000): Promise<Record<string, unknown>> {
  let client: SupervisorClient;
  try {
    client = await connectControl(id);
  } catch (err) {
    throw new UserError(`Agent session ${id} is not reachable (${(err as Error).message}). Run \`agent list\` to see its state.`);
  }
  try {
    return await client.request(op, timeoutMs);
  } catch (err) {
    if (err instanceof ProtocolFailure) throw new UserError(`Agent session ${id}: ${err.message}`);
    throw err;
  } finally {
    client.close();
  }
}


export class PtyBackend implements Backend {
  readonly name = 'pty' as const;

  async spawn(req: SpawnRequest): Promise<SpawnResult> {
    const files = sessionFiles(req.id);
    ensurePrivateDir(symposiumHome());
    ensurePrivateDir(files.dir);
    // Leftovers of an earlier session of the same id are not this one's.
    for (const f of [files.exit, files.screen, files.queue]) fs.rmSync(f, { force: true });
    const dir = runtimeDir();
    const sock = socketPath(req.id, dir);
    if (fs.existsSync(sock)) {
      try {
        (await connectControl(req.id, 1000)).close();
        throw new UserError(`A supervisor for ${req.id} is already running on ${sock}`);
      } catch (err) {
        if (err instanceof UserError) throw err;
        fs.rmSync(sock, { force: true }); // stale: nobody answers
      }
    }
    const config: SupervisorConfig = {
      id: req.id,
      workdir: req.workdir,
      command: req.command,
      cols: req.cols,
      rows: req.rows,
      sizePolicy: req.sizePolicy,
      idleMs: req.idleMs,
      socketPath: sock,
      sessionDir: files.dir,
      scrollbackLines: DEFAULT_SCROLLBACK_LINES,
      scrollbackBytes: DEFAULT_SCROLLBACK_BYTES,
      createdAtMs: req.createdAtMs,
    };
    writeJsonAtomic(files.config, config);
    try {
      return await lazy.startSupervisor().startSupervisor(config, files.config, files.log);
    } catch (err) {
      // Nothing runs: leave nothing behind (the supervisor removed its socket or never made it).
      fs.rmSync(files.dir, { recursive: true, force: true });
      throw err;
    }
  }

  async observe(records: SessionRecord[], opts: ObserveOptions = {}): Promise<Map<string, Observation>> {
    const out = new Map<string, Observation>();
    const detail = opts.detail !== false;
    await Promise.all(records.map(async (rec) => out.set(rec.uuid, await this.observeOne(rec, detail))));
    return out;
  }

  async discover(known: ReadonlySet<string>): Promise<Discovered[]> {
    return lazy.discover().discoverSessions(known);
  }

  private async observeOne(rec: SessionRecord, detail: boolean): Promise<Observation> {
    const obs = (!detail && this.observeQuick(rec)) || (await this.observeRun(rec));
    // A record older than the session's own config comes from an old copy of the file.
    const config = readSupervisorConfig(sessionFiles(rec.uuid).config);
    if (config && config.id === rec.uuid && config.createdAtMs > toMillis(rec.created_at) && obs.state !== 'missing') {
      obs.incarnation = { createdAtMs: config.createdAtMs, command: config.command, workdir: config.workdir };
    }
    return obs;
  }

  /**
   * Without a socket round trip: an exit record of this run, or our supervisor alive
   * under its pid (it writes the exit record before it leaves). Null when unsure.
   */
  private observeQuick(rec: SessionRecord): Observation | null {
    const exit = readExitRecord(sessionFiles(rec.uuid).exit);
    if (exit && exit.endedAt >= toMillis(rec.created_at)) {
      return { state: 'ended', exitCode: exit.code, exitSignal: exit.signal, reason: exit.reason };
    }
    if (isSupervisorOf(rec.supervisor_pid, rec.uuid)) return { state: 'running', supervisorPid: rec.supervisor_pid ?? null };
    return null;
  }

  private async observeRun(rec: SessionRecord): Promise<Observation> {
    const files = sessionFiles(rec.uuid);
    try {
      const client = await connectControl(rec.uuid, 2000);
      try {
        return observationFromStatus(await client.request({ op: 'status' }, 2000));
      } finally {
        client.close();
      }
    } catch {
      /* not answering: look at what it left */
    }
    const exit = readExitRecord(files.exit);
    // An exit record older than the record is the previous run's (a restart in progress).
    if (exit && exit.endedAt >= toMillis(rec.created_at)) {
      return { state: 'ended', exitCode: exit.code, exitSignal: exit.signal, reason: exit.reason };
    }
    if (isSupervisorOf(rec.supervisor_pid, rec.uuid)) {
      return { state: 'running', activity: null, supervisorPid: rec.supervisor_pid ?? null };
    }
    // Reported only once the record is past its start-up grace (see sync).
    if (!rec.supervisor_pid && !rec.agent_pid) return { state: 'missing', reason: 'never started (the command that started it was interrupted)' };
    const orphan = orphanedAgentGroup(rec.agent_pid, toMillis(rec.created_at)).length > 0
      ? ` (its agent, process group ${rec.agent_pid}, still runs: \`agent kill ${rec.uuid}\` ends it)`
      : '';
    return { state: 'missing', reason: `supervisor died${orphan}` };
  }

  async attach(rec: SessionRecord, opts: AttachOptions): Promise<number> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { attachTerminal } = require('./attach') as typeof import('./attach');
    return attachTerminal(rec.uuid, socketPath(rec.uuid), opts);
  }

  async kill(rec: SessionRecord): Promise<void> {
    const files = sessionFiles(rec.uuid);
    let sock: string | null = null;
    try {
      sock = socketPath(rec.uuid);
    } catch {
      /* runtime dir unusable: fall back to signals */
    }
    let supervisorPid = rec.supervisor_pid ?? null;
    // A newer run of this id (spawned or restarted meanwhile) owns the socket and the
    // directory now: ending this record's run must not end that one.
    const config = readSupervisorConfig(files.config);
    const newer = config !== null && config.createdAtMs > toMillis(rec.created_at);
    if (newer) sock = null;
    if (sock && fs.existsSync(sock)) {
      try {
        const client = await connectControl(rec.uuid, 2000);
        supervisorPid = client.welcome.session.supervisorPid;
        try {
          await client.request({ op: 'kill', graceMs: KILL_GRACE_MS }, KILL_GRACE_MS + 5000);
        } finally {
          client.close();
        }
      } catch {
        /* unreachable: signals below */
      }
    }
    if (!newer) {
      for (let i = 0; i < 150 && isSupervisorOf(supervisorPid, rec.uuid); i++) await sleep(20);
      if (isSupervisorOf(supervisorPid, rec.uuid)) {
        try {
          process.kill(supervisorPid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    // Whatever is left: the agent's process group (a supervisor killed with SIGKILL
    // leaves it running). Only a verified orphan is signalled: the recorded pid may
    // belong to someone else by now (after a reboot, surely).
    if (orphanedAgentGroup(rec.agent_pid, toMillis(rec.created_at)).length > 0) {
      // It already had the hangup of its dying terminal: a short wait after SIGHUP, the
      // supervisor's grace after SIGTERM.
      for (const [sig, waitMs] of [['SIGHUP', 200], ['SIGTERM', KILL_GRACE_MS]] as const) {
        try {
          process.kill(-rec.agent_pid!, sig);
        } catch {
          /* gone */
        }
        for (let i = 0; i < waitMs / 50 && groupAlive(rec.agent_pid); i++) await sleep(50);
      }
      if (groupAlive(rec.agent_pid)) {
        try {
          process.kill(-rec.agent_pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    if (newer) return;
    if (sock) fs.rmSync(sock, { force: true });
    fs.rmSync(files.dir, { recursive: true, force: true });
  }

  async send(rec: SessionRecord, opts: SendOptions): Promise<void> {
    await ask(rec.uuid, { op: 'send', data: opts.data, paste: opts.paste, keys: opts.keys });
  }

  async capture(rec: SessionRecord, opts: CaptureOptions): Promise<CaptureResult> {
    const files = sessionFiles(rec.uuid);
    // Just after the end, the supervisor tells first and writes the final screen next:
    // until that file exists, it still answers.
    if (rec.status === 'Running' || rec.status === 'Starting' || !fs.existsSync(files.screen)) {
      try {
        const r = await ask(rec.uuid, { op: 'capture', lines: opts.lines, scrollback: opts.scrollback, ansi: opts.ansi });
        const c = r.cursor as { x?: unknown; y?: unknown } | undefined;
        return {
          text: typeof r.text === 'string' ? r.text : '',
          cols: num(r.cols) ?? 0,
          rows: num(r.rows) ?? 0,
          cursor: c && typeof c.x === 'number' && typeof c.y === 'number' ? { x: c.x, y: c.y } : null,
          final: r.final === true,
        };
      } catch (err) {
        if (!isEnded(rec) && !fs.existsSync(files.screen)) throw err;
      }
    }
    const screen = readFinalScreen(files.screen);
    if (!screen) throw new UserError(`Agent session ${rec.uuid} has no screen to capture: it ended without leaving one (${files.screen} is missing)`);
    return finalCapture(screen, opts);
  }

  async wait(rec: SessionRecord, cond: WaitCondition, timeoutMs: number | null): Promise<WaitResult> {
    const files = sessionFiles(rec.uuid);
    const fromDisk = (): WaitResult => {
      const exit = readExitRecord(files.exit);
      const base = { exitCode: exit?.code ?? rec.exit_code ?? null, exitSignal: exit?.signal ?? rec.exit_signal ?? null };
      if (cond.until === 'text') {
        const screen = readFinalScreen(files.screen);
        const m = screen ? matchForUser(TextPattern.compile(cond.pattern, cond.flags), screen.lines.slice(screen.scrollbackLines).join('\n')) : undefined;
        return { satisfied: m !== undefined, match: m, ...base };
      }
      return { satisfied: true, ...base };
    };
    // Ended: from disk, but for a text the final screen must be there (see capture).
    if (isEnded(rec) && (cond.until !== 'text' || fs.existsSync(files.screen))) return fromDisk();
    let client: SupervisorClient;
    try {
      client = await connectControl(rec.uuid);
    } catch (err) {
      if (fs.existsSync(files.exit)) return fromDisk();
      throw new UserError(`Agent session ${rec.uuid} is not reachable (${(err as Error).message})`);
    }
    try {
      const op =
        cond.until === 'idle'
          ? ({ op: 'wait', until: 'idle', idleMs: Math.max(0, cond.idleMs), timeoutMs } as const)
          : cond.until === 'exit'
            ? ({ op: 'wait', until: 'exit', timeoutMs } as const)
            : ({ op: 'wait', until: 'text', pattern: cond.pattern, flags: cond.flags, timeoutMs } as const);
      let r: Record<string, unknown>;
      try {
        r = await client.request(op, timeoutMs === null ? null : timeoutMs + 10_000);
      } catch (err) {
        // The supervisor may finish and close right as it answers: the files say the rest.
        if (fs.existsSync(files.exit)) return fromDisk();
        throw new UserError(`Waiting for ${rec.uuid} failed: ${(err as Error).message}`);
      }
      return {
        satisfied: r.satisfied === true,
        exitCode: num(r.exitCode),
        exitSignal: strOrNull(r.exitSignal),
        match: typeof r.match === 'string' ? r.match : undefined,
      };
    } finally {
      client.close();
    }
  }

  async queueAdd(rec: SessionRecord, text: string): Promise<QueueEntry> {
    const r = await ask(rec.uuid, { op: 'queue-add', text });
    return toEntry(r.task);
  }

  async queueList(rec: SessionRecord): Promise<QueueEntry[]> {
    if (rec.status === 'Running' || rec.status === 'Starting') {
      try {
        const r = await ask(rec.uuid, { op: 'queue-list' });
        return Array.isArray(r.tasks) ? r.tasks.map(toEntry) : [];
      } catch {
        /* ended meanwhile: read the file */
      }
    }
    return lazy.queue().readQueueFile(sessionFiles(rec.uuid).queue).map(toEntry);
  }

  async queueClear(rec: SessionRecord): Promise<number> {
    if (rec.status !== 'Running' && rec.status !== 'Starting') return 0;
    const r = await ask(rec.uuid, { op: 'queue-clear' });
    return num(r.cleared) ?? 0;
  }
}

function toEntry(v: unknown): QueueEntry {
  const t = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return {
    index: num(t.index) ?? 0,
    text: typeof t.text === 'string' ? t.text : '',
    state: t.state === 'delivered' ? 'delivered' : 'queued',
    queuedAt: num(t.queuedAt) ?? 0,
    deliveredAt: num(t.deliveredAt),
  };
}

function finalCapture(screen: NonNullable<ReturnType<typeof readFinalScreen>>, opts: CaptureOptions): CaptureResult {
  const from = opts.scrollback ? 0 : screen.scrollbackLines;
  const plain = screen.lines.slice(from).map((l) => l.replace(/\s+$/, ''));
  let lines = opts.ansi ? screen.ansiLines.slice(from) : plain;
  // Trailing blank lines go, judged on the plain text.
  let n = plain.length;
  while (n > 0 && plain[n - 1] === '') n--;
  lines = lines.slice(0, n);
  if (opts.lines !== null && lines.length > opts.lines) lines = lines.slice(lines.length - opts.lines);
  return { text: lines.join('\n'), cols: screen.cols, rows: screen.rows, cursor: screen.cursor, final: true };
}

