import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors';
import type { SupervisorLink } from '../../link/supervisor-link';
import type { Places } from '../../places';
import { checkRuntimeDir, ensurePrivateDir } from '../../sys/private-dir';
import type { ProtocolError } from '../../protocol/messages';
import type { ArgsOf, EventsArgs, EventsReply, OpName, ReplyOf, StatusReply, TaskInfo } from '../../protocol/ops';
import { readQueue } from '../../store/queue-file';
import { liveStatusFileOf, readLiveStatus } from '../../store/live-status';
import { eventsFromFile, readEventsFile } from '../../store/events-file';
import { type FallbackFiles, type FinalScreen, type SupervisorConfig, fallbackFilesOf, readSupervisorConfig } from '../../store/session-dir';
import { Recording } from '../../recording/limits';
import { removeRecordingParts } from '../../store/recording-files';
import { toMillis } from '../../store/time';
import { type SessionRecord, isEnded } from '../../store/types';
import { writeJsonAtomic } from '../../sys/atomic-write';
import { RUN_MARKER, runMarker } from '../../agent-marker';
import { groupMembers } from '../../sys/proc';
import { ProcessTree, leftTheTree } from '../../sys/process-tree';
import { TextPattern, matchForUser } from '../../text-pattern';
import type {
  AttachStream,
  Backend,
  CaptureOptions,
  CaptureResult,
  Discovered,
  KillResult,
  Observation,
  ObserveOptions,
  QueueEntry,
  RecordingSource,
  SendOptions,
  SpawnRequest,
  SpawnResult,
  StatusResult,
  StreamAttachOptions,
  TerminalAttachOptions,
  WaitCondition,
  WaitOptions,
  WaitResult,
} from '../backend';
import { isSupervisorOf, orphanedAgentGroup, writerState } from './processes';
import { recordedSocket, socketOf } from './locate';
import { SessionEnd } from './session-end';
import { observationFromStatus } from './status';

// Loaded by the verbs that need them: `attach`, the most waited-for command, never loads
// the spawn or adoption code.
/* eslint-disable @typescript-eslint/no-require-imports */
const lazy = {
  startSupervisor: () => require('./start-supervisor') as typeof import('./start-supervisor'),
  discover: () => require('./discover') as typeof import('./discover'),
  attachTerminal: () => require('./attach-terminal') as typeof import('./attach-terminal'),
  attachStream: () => require('./attach-stream') as typeof import('./attach-stream'),
  // The socket's client (node:net, msgpackr, the protocol's decoders): `list` reads status
  // files and needs it only for a supervisor that published none.
  link: () => require('../../link/supervisor-link') as typeof import('../../link/supervisor-link'),
  messages: () => require('../../protocol/messages') as typeof import('../../protocol/messages'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

// The pty backend as the front ends see it: start a supervisor, then talk to it on its
// socket. When the supervisor is gone, answers come from the files it left (exit record,
// final screen, queue).

export const DEFAULT_SCROLLBACK_LINES = 10_000;
export const DEFAULT_SCROLLBACK_BYTES = 32 * 1024 * 1024;
const KILL_GRACE_MS = 3000;
/** How long `agent list` waits for each supervisor's status before it shows it as not answering. */
const STATUS_TIMEOUT_MS = 2000;

function groupAlive(pgid: number | null | undefined): boolean {
  return !!pgid && groupMembers(pgid).length > 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A link's failure with a protocol code (the link's module is loaded once a link was made). */
function isProtocolError(err: unknown): err is ProtocolError {
  return err instanceof lazy.messages().ProtocolError;
}

function abortError(): Error {
  const e = new Error('the wait was aborted');
  e.name = 'AbortError';
  return e;
}

export class PtyBackend implements Backend {
  readonly name = 'pty' as const;

  constructor(
    private readonly places: Places,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * The socket this record's supervisor was started on, if its directory is usable (null:
   * nothing there). `checked`: directories already judged, for a pass over many records.
   */
  private runSocket(rec: SessionRecord, checked?: Map<string, boolean>): string | null {
    let sock: string;
    try {
      sock = recordedSocket(this.places, rec) ?? this.places.socketPath(rec.uuid, this.places.runtimeBase);
    } catch {
      return null;
    }
    const dir = path.dirname(sock);
    let usable = checked?.get(dir);
    if (usable === undefined) {
      try {
        checkRuntimeDir(dir);
        usable = true;
      } catch {
        usable = false;
      }
      checked?.set(dir, usable);
    }
    return usable ? sock : null;
  }

  /** Where this session's end is on disk (its directory, or beside the socket its supervisor used). */
  private endOfRun(rec: SessionRecord, sock = this.runSocket(rec)): SessionEnd {
    const fallback: FallbackFiles | null = sock === null ? null : fallbackFilesOf(sock);
    return new SessionEnd(this.places.sessionFiles(rec.uuid), fallback);
  }

  connectControl(rec: SessionRecord, timeoutMs = 3000): Promise<SupervisorLink> {
    return lazy.link().SupervisorLink.connect(socketOf(this.places, rec), { mode: 'control', timeoutMs });
  }

  /** Runs one request on a fresh control connection. */
  private async ask<K extends OpName>(rec: SessionRecord, op: K, args: ArgsOf<K>, timeoutMs: number | null = 30_000): Promise<ReplyOf<K>> {
    const id = rec.uuid;
    let link: SupervisorLink;
    try {
      link = await this.connectControl(rec);
    } catch (err) {
      throw new UserError(`Agent session ${id} is not reachable (${(err as Error).message}). Run \`agent list\` to see its state.`);
    }
    try {
      return await link.request(op, args, timeoutMs);
    } catch (err) {
      if (isProtocolError(err) && err.code === 'unsupported') throw olderSupervisor(id, link.welcome.server, op);
      if (isProtocolError(err)) throw new UserError(`Agent session ${id}: ${err.message}`);
      throw err;
    } finally {
      link.close();
    }
  }

  async spawn(req: SpawnRequest): Promise<SpawnResult> {
    const files = this.places.sessionFiles(req.id);
    ensurePrivateDir(this.places.home);
    ensurePrivateDir(this.places.sessionsDir);
    ensurePrivateDir(files.dir);
    // Leftovers of an earlier session of the same id are not this one's.
    for (const f of [files.exit, files.screen, files.queue, files.queueJournal]) fs.rmSync(f, { force: true });
    // A restart goes on with the session's events and recording (last night's, after a
    // reboot); a new session of an old id starts its own.
    if (!req.restart) {
      fs.rmSync(files.events, { force: true });
      removeRecordingParts(files.dir);
    }
    const dir = this.places.runtimeDir();
    const sock = this.places.socketPath(req.id, dir);
    new SessionEnd(files, fallbackFilesOf(sock)).removeFallback();
    if (fs.existsSync(sock)) {
      try {
        (await lazy.link().SupervisorLink.connect(sock, { mode: 'control', timeoutMs: 1000 })).close();
        throw new UserError(`A supervisor for ${req.id} is already running on ${sock}`);
      } catch (err) {
        if (err instanceof UserError) throw err;
        fs.rmSync(sock, { force: true }); // stale: nobody answers
      }
    }
    fs.rmSync(liveStatusFileOf(sock), { force: true }); // a dead supervisor's word
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
      sessionsFile: this.places.sessionsFile,
      recording: req.recording,
      ...(req.hooks ? { hooks: req.hooks } : {}),
      restart: req.restart,
    };
    // Not fsynced: the supervisor reads it at once, and after a power cut there is no
    // supervisor for it to configure. (Each durable write, file and directory fsynced,
    // took ~7 ms more here: 10-11 against 3-3.5 ms, 20 writes each way.)
    writeJsonAtomic(files.config, config, false);
    try {
      const started = await lazy.startSupervisor().startSupervisor(config, files.config, files.log, this.env);
      return { ...started, socketPath: sock };
    } catch (err) {
      // Nothing runs: leave nothing behind (the supervisor removed its socket or never made it).
      fs.rmSync(files.dir, { recursive: true, force: true });
      throw err;
    }
  }

  async observe(records: SessionRecord[], opts: ObserveOptions = {}): Promise<Map<string, Observation>> {
    const out = new Map<string, Observation>();
    const detail = opts.detail !== false;
    const checked = new Map<string, boolean>();
    await Promise.all(records.map(async (rec) => out.set(rec.uuid, await this.observeOne(rec, detail, checked))));
    return out;
  }

  async discover(known: ReadonlySet<string>): Promise<Discovered[]> {
    return lazy.discover().discoverSessions(this.places, known);
  }

  private async observeOne(rec: SessionRecord, detail: boolean, checked: Map<string, boolean>): Promise<Observation> {
    const sock = this.runSocket(rec, checked);
    const live = detail && sock !== null ? this.published(rec, sock) : null;
    // The status file names its run: for a record of that run, supervisor.json has nothing
    // newer, and a running one left no end to settle.
    const ofThisRun = live !== null && live.createdAtMs === toMillis(rec.created_at);
    if (ofThisRun && live.observation.state === 'running') return live.observation;
    const end = this.endOfRun(rec, sock);
    end.settle();
    const obs = live?.observation ?? ((!detail && this.observeQuick(rec, end)) || (await this.observeRun(rec, end)));
    if (ofThisRun) return obs;
    // A record older than the session's own config comes from an old copy of the file.
    const config = readSupervisorConfig(this.places.sessionFiles(rec.uuid).config);
    if (config && config.id === rec.uuid && config.createdAtMs > toMillis(rec.created_at) && obs.state !== 'missing') {
      obs.incarnation = { createdAtMs: config.createdAtMs, command: config.command, workdir: config.workdir };
    }
    return obs;
  }

  /** The exit record of this record's run, if it has ended. */
  private endOf(rec: SessionRecord, end = this.endOfRun(rec)): Observation | null {
    const exit = end.exit();
    // An exit record older than the record is the previous run's (a restart in progress).
    if (!exit || exit.endedAt < toMillis(rec.created_at)) return null;
    return { state: 'ended', exitCode: exit.code, exitSignal: exit.signal, reason: exit.reason };
  }

  /**
   * Without a socket round trip: an exit record of this run, or our supervisor alive
   * under its pid (it writes the exit record before it leaves). Null when unsure.
   */
  private observeQuick(rec: SessionRecord, files: SessionEnd): Observation | null {
    const end = this.endOf(rec, files);
    if (end) return end;
    if (isSupervisorOf(rec.supervisor_pid, rec.uuid)) return { state: 'running', supervisorPid: rec.supervisor_pid ?? null };
    return null;
  }

  private async askStatus(rec: SessionRecord, timeoutMs: number): Promise<StatusReply | null> {
    try {
      const link = await this.connectControl(rec, timeoutMs);
      try {
        return await link.request('status', {}, timeoutMs);
      } finally {
        link.close();
      }
    } catch {
      return null; // not answering: look at what it left
    }
  }

  /**
   * What this record's live supervisor published in its status file, without asking it;
   * null when it must be asked: no usable file (missing, malformed, written by an earlier
   * version) or its writer is gone (its end, or its absence, is then found as before).
   * A supervisor stopped (SIGSTOP) answers nobody: said so at once. One that is alive but
   * too busy to answer is not seen here (`agent status ID` asks, and says so).
   */
  private published(rec: SessionRecord, sock: string): { observation: Observation; createdAtMs: number } | null {
    const s = readLiveStatus(liveStatusFileOf(sock));
    if (!s || s.id !== rec.uuid) return null;
    switch (writerState(s.supervisorPid, s.supervisorStarted)) {
      case 'gone':
        return null;
      case 'stopped':
        return { observation: { state: 'running', activity: null, supervisorPid: s.supervisorPid, responding: false }, createdAtMs: s.createdAtMs };
      case 'running':
        return { observation: observationFromStatus(s), createdAtMs: s.createdAtMs };
    }
  }

  private async observeRun(rec: SessionRecord, files: SessionEnd): Promise<Observation> {
    const status = await this.askStatus(rec, STATUS_TIMEOUT_MS);
    if (status && status.id === rec.uuid) return observationFromStatus(status);
    const end = this.endOf(rec, files);
    if (end) return end;
    if (isSupervisorOf(rec.supervisor_pid, rec.uuid)) {
      // Alive, but it did not answer within STATUS_TIMEOUT_MS: stopped, or swamped.
      return { state: 'running', activity: null, supervisorPid: rec.supervisor_pid ?? null, responding: false };
    }
    // Reported only once the record is past its start-up grace (see sync).
    if (!rec.supervisor_pid && !rec.agent_pid) return { state: 'missing', reason: 'never started (the command that started it was interrupted)' };
    const orphan =
      orphanedAgentGroup(rec.agent_pid, toMillis(rec.created_at)).length > 0
        ? ` (its agent, process group ${rec.agent_pid}, still runs: \`agent kill ${rec.uuid}\` ends it)`
        : '';
    return { state: 'missing', reason: `supervisor died${orphan}` };
  }

  async attachTerminal(rec: SessionRecord, opts: TerminalAttachOptions): Promise<number> {
    return lazy.attachTerminal().attachTerminal(rec.uuid, socketOf(this.places, rec), opts);
  }

  async attach(rec: SessionRecord, opts: StreamAttachOptions): Promise<AttachStream> {
    return lazy.attachStream().attachStream(rec.uuid, socketOf(this.places, rec), opts);
  }

  async kill(rec: SessionRecord, opts: { keepHistory?: boolean } = {}): Promise<KillResult> {
    const result: KillResult = { leftRunning: [] };
    let told = false; // the supervisor ended the agent and said what it left
    const files = this.places.sessionFiles(rec.uuid);
    let sock: string | null = null;
    try {
      sock = socketOf(this.places, rec);
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
        const link = await lazy.link().SupervisorLink.connect(sock, { mode: 'control', timeoutMs: 2000 });
        supervisorPid = link.welcome.session.supervisorPid;
        try {
          result.leftRunning = (await link.request('kill', { graceMs: KILL_GRACE_MS }, KILL_GRACE_MS + 5000)).leftRunning;
          told = true;
        } finally {
          link.close();
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
    // Whatever is left: the agent's process group and what descends from it (a supervisor
    // killed with SIGKILL leaves them running). Only a verified orphan is signalled: the
    // recorded pid may belong to someone else by now (after a reboot, surely).
    const orphans = orphanedAgentGroup(rec.agent_pid, toMillis(rec.created_at));
    const tree = new ProcessTree(orphans, true);
    // What carries this run's marker outside the tree had left it (daemonised itself, or
    // lost its parent when the supervisor died): named, not ended.
    if (!told && !newer) result.leftRunning = leftTheTree(RUN_MARKER, runMarker(rec.uuid, toMillis(rec.created_at)), tree, []);
    if (orphans.length > 0) {
      const alive = () => groupAlive(rec.agent_pid) || tree.alive().length > 0;
      const signal = (sig: NodeJS.Signals) => {
        tree.refresh();
        try {
          process.kill(-rec.agent_pid!, sig);
        } catch {
          /* gone */
        }
        tree.signal(sig);
      };
      // It already had the hangup of its dying terminal: a short wait after SIGHUP, the
      // supervisor's grace after SIGTERM.
      for (const [sig, waitMs] of [
        ['SIGHUP', 200],
        ['SIGTERM', KILL_GRACE_MS],
      ] as const) {
        signal(sig);
        for (let i = 0; i < waitMs / 50 && alive(); i++) await sleep(50);
      }
      if (alive()) signal('SIGKILL');
    }
    if (newer) return result;
    if (sock) fs.rmSync(sock, { force: true });
    // The status file of a supervisor that could not remove it (killed with SIGKILL).
    for (const s of new Set([sock, this.runSocket(rec)])) if (s) fs.rmSync(liveStatusFileOf(s), { force: true });
    this.endOfRun(rec).removeFallback();
    if (opts.keepHistory) removeAllBut(files.dir, (name) => name === path.basename(files.events) || /^recording\.\d+\.cast$/.test(name));
    else fs.rmSync(files.dir, { recursive: true, force: true });
    return result;
  }

  async send(rec: SessionRecord, opts: SendOptions): Promise<TaskInfo | null> {
    return (await this.ask(rec, 'send', { data: opts.data, paste: opts.paste, keys: opts.keys, keyNames: opts.keyNames, task: opts.task === true })).task;
  }

  async capture(rec: SessionRecord, opts: CaptureOptions): Promise<CaptureResult> {
    const end = this.endOfRun(rec);
    // Just after the end, the supervisor tells first and writes the final screen next:
    // until that file exists, it still answers.
    if (rec.status === 'Running' || rec.status === 'Starting' || !end.hasScreen) {
      try {
        return await this.ask(rec, 'capture', opts);
      } catch (err) {
        if (!isEnded(rec) && !end.hasScreen) throw err;
      }
    }
    const screen = end.screen();
    if (!screen) throw new UserError(`Agent session ${rec.uuid} has no screen to capture: it ended without leaving one (${end.screenPath} is missing)`);
    return finalCapture(screen, opts);
  }

  async wait(rec: SessionRecord, cond: WaitCondition, opts: WaitOptions): Promise<WaitResult> {
    const end = this.endOfRun(rec);
    const fromDisk = (): WaitResult => {
      const exit = end.exit();
      const base = { exitCode: exit?.code ?? rec.exit_code ?? null, exitSignal: exit?.signal ?? rec.exit_signal ?? null };
      if (cond.until === 'text') {
        const screen = end.screen();
        const m = screen ? matchForUser(TextPattern.compile(cond.pattern, cond.flags), screen.lines.slice(screen.scrollbackLines).join('\n')) : undefined;
        return { satisfied: m !== undefined, ended: true, match: m ?? null, state: 'exited', task: null, ...base };
      }
      const task = cond.until === 'task' ? (readQueue(this.places.sessionFiles(rec.uuid)).find((t) => t.index === cond.task) ?? null) : null;
      if (cond.until === 'task' && task === null) throw new UserError(`Agent session ${rec.uuid} has no task ${cond.task}`);
      const satisfied = cond.until === 'state' ? cond.states.includes('exited') : cond.until === 'task' ? task?.state === 'done' : true;
      return { satisfied, ended: true, match: null, state: 'exited', task, ...base };
    };
    if (opts.signal?.aborted) throw abortError();
    // Ended: from disk, but for a text the final screen must be there (see capture).
    if (isEnded(rec) && (cond.until !== 'text' || end.hasScreen)) return fromDisk();
    let link: SupervisorLink;
    try {
      link = await this.connectControl(rec);
    } catch (err) {
      if (end.hasExit) return fromDisk();
      throw new UserError(`Agent session ${rec.uuid} is not reachable (${(err as Error).message})`);
    }
    // Aborting closes the connection: the supervisor drops the wait with it.
    const onAbort = () => link.close();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const timeoutMs = opts.timeoutMs;
      const args: ArgsOf<'wait'> =
        cond.until === 'idle'
          ? { until: 'idle', idleMs: Math.max(0, cond.idleMs ?? 0), timeoutMs }
          : cond.until === 'text'
            ? { until: 'text', pattern: cond.pattern, flags: cond.flags, timeoutMs }
            : { ...cond, timeoutMs };
      let r: ReplyOf<'wait'>;
      try {
        r = await link.request('wait', args, timeoutMs === null ? null : timeoutMs + 10_000);
      } catch (err) {
        if (opts.signal?.aborted) throw abortError();
        // The supervisor may finish and close right as it answers: the files say the rest.
        if (end.hasExit) return fromDisk();
        if (isProtocolError(err) && err.code === 'unsupported') {
          throw new UserError(`Agent session ${rec.uuid} runs a supervisor of an earlier version, which cannot wait for ${cond.until === 'task' ? 'a task' : 'a state'}; restart it to use this`);
        }
        throw new UserError(`Waiting for ${rec.uuid} failed: ${(err as Error).message}`);
      }
      return { satisfied: r.satisfied, ended: r.ended, exitCode: r.exitCode, exitSignal: r.exitSignal, match: r.match, state: r.state, task: r.task };
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      link.close();
    }
  }

  async status(rec: SessionRecord): Promise<StatusResult> {
    const s = isEnded(rec) ? null : await this.askStatus(rec, 3000);
    if (s) {
      return {
        running: !s.ended,
        cols: s.cols,
        rows: s.rows,
        viewers: s.viewers,
        lastOutputAt: s.lastOutputAt,
        activity: s.activity,
        agentState: { state: s.state, reason: s.stateReason, since: s.stateSince },
        idleMs: s.idleMs,
        title: s.title,
        exitCode: s.exitCode,
        exitSignal: s.exitSignal,
        supervisorPid: s.supervisorPid,
        agentPid: s.agentPid,
        queued: s.queued,
      };
    }
    const end = this.endOf(rec);
    if (!end && !isEnded(rec)) throw new UserError(`Agent session ${rec.uuid} is not reachable. Run \`agent list\` to see its state.`);
    const screen = this.endOfRun(rec).screen();
    return {
      running: false,
      cols: screen?.cols ?? null,
      rows: screen?.rows ?? null,
      viewers: 0,
      lastOutputAt: null,
      activity: null,
      agentState: { state: 'exited', reason: end?.exitSignal ? `killed by ${end.exitSignal}` : `exited with code ${end?.exitCode ?? rec.exit_code ?? '?'}`, since: null },
      idleMs: null,
      title: null,
      exitCode: end?.exitCode ?? rec.exit_code ?? null,
      exitSignal: end?.exitSignal ?? rec.exit_signal ?? null,
      supervisorPid: null,
      agentPid: rec.agent_pid ?? null,
      queued: readQueue(this.places.sessionFiles(rec.uuid)).filter((t) => t.state === 'queued').length,
    };
  }

  async events(rec: SessionRecord, args: EventsArgs): Promise<EventsReply> {
    const file = this.places.sessionFiles(rec.uuid).events;
    if (rec.status === 'Running' || rec.status === 'Starting') {
      try {
        const r = await this.ask(rec, 'events', args, args.waitMs + 10_000);
        if (r.lost === 0) return r;
        // Older than the supervisor holds in memory: events.jsonl has them (up to its own bound).
        const upTo = r.events[0]?.seq ?? r.next;
        const older = readEventsFile(file).filter((e) => e.seq >= args.since && e.seq < upTo);
        const events = [...older, ...r.events].slice(0, args.limit);
        const first = events[0]?.seq ?? upTo;
        return { events, next: events.length > 0 ? events[events.length - 1]!.seq + 1 : r.next, lost: Math.max(0, first - Math.max(args.since, 1)) };
      } catch (err) {
        if (err instanceof UserError && /earlier version|not supported/.test(err.message)) throw err;
        /* ended meanwhile, or not reachable: the file */
      }
    }
    return eventsFromFile(readEventsFile(file), args);
  }

  async queueAdd(rec: SessionRecord, text: string): Promise<QueueEntry> {
    return (await this.ask(rec, 'queue-add', { text })).task;
  }

  async queueList(rec: SessionRecord): Promise<QueueEntry[]> {
    if (rec.status === 'Running' || rec.status === 'Starting') {
      try {
        return (await this.ask(rec, 'queue-list', {})).tasks;
      } catch {
        /* ended meanwhile: read the file */
      }
    }
    return readQueue(this.places.sessionFiles(rec.uuid));
  }

  async queueClear(rec: SessionRecord): Promise<number> {
    if (rec.status !== 'Running' && rec.status !== 'Starting') return 0;
    return (await this.ask(rec, 'queue-clear', {})).cleared;
  }

  recording(rec: SessionRecord): RecordingSource {
    const files = this.places.sessionFiles(rec.uuid);
    const config = readSupervisorConfig(files.config);
    return {
      dir: files.dir,
      settings: config?.recording ?? null,
      // Its supervisor writes the recording until it exits (after the exit record).
      live: () => isSupervisorOf(rec.supervisor_pid, rec.uuid),
      written: async () => {
        const deadline = Date.now() + Recording.ReaderWaitMs;
        while (this.endOf(rec) && isSupervisorOf(rec.supervisor_pid, rec.uuid) && Date.now() < deadline) await sleep(20);
      },
    };
  }
}

/** A request the supervisor does not know: it was started by an older version. */
function olderSupervisor(id: string, server: string, op: string): UserError {
  const version = /\/(\S+)$/.exec(server)?.[1] ?? 'an older version';
  return new UserError(
    `Agent session ${id} runs a supervisor of symposium-mcp ${version}, which cannot do \`${op}\`. ` +
      `It still lists, attaches, sends, captures, queues, waits and is killed as before; a session started by this version (\`agent restart ${id}\` once it has ended) can do everything.`,
  );
}

function finalCapture(screen: FinalScreen, opts: CaptureOptions): CaptureResult {
  let from = opts.scrollback ? 0 : screen.scrollbackLines;
  let skipped = 0;
  if (opts.since !== null) {
    const rel = opts.since - screen.firstLine;
    skipped = Math.max(0, -rel);
    from = Math.max(0, Math.min(rel, screen.lines.length));
  }
  const plain = screen.lines.slice(from).map((l) => l.replace(/\s+$/, ''));
  let lines = opts.ansi ? screen.ansiLines.slice(from) : plain;
  // Trailing blank lines go, judged on the plain text.
  let n = plain.length;
  while (n > 0 && plain[n - 1] === '') n--;
  lines = lines.slice(0, n);
  if (opts.lines !== null && lines.length > opts.lines) {
    from += lines.length - opts.lines;
    lines = lines.slice(lines.length - opts.lines);
  }
  return {
    text: lines.join('\n'),
    cols: screen.cols,
    rows: screen.rows,
    cursor: screen.cursor,
    final: true,
    firstLine: screen.firstLine + from,
    nextLine: screen.firstLine + screen.scrollbackLines + screen.cursor.y,
    skipped,
    alternate: false,
  };
}

/** Empties a session's directory but for what `keep` names. */
function removeAllBut(dir: string, keep: (name: string) => boolean): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (!keep(n)) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
}
