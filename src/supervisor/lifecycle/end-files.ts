import * as fs from 'node:fs';
import { type ExitRecord, type FallbackFiles, type SessionFiles, fallbackFilesOf } from '../../store/session-dir';
import type { SupervisorConfig } from '../../store/session-dir';
import { writeJsonAtomic } from '../../sys/atomic-write';
import type { FinalScreenData, Screen } from '../mirror/screen';
import type { AgentExit } from './agent-process';
import { log } from './log';

// What an agent leaves on disk when it ends: the exit record (durably, at once) and the
// final screen (for `capture` after the end, written once everyone has been told). Each
// goes to the session's directory, or, when that disk is full or read-only, beside the
// socket in the runtime directory, where the CLI looks too (backends/pty/index.ts). When
// neither takes it, the supervisor keeps it and tries again, and leaves only then (agent-end.ts).

type Where = 'session' | 'runtime';

function saveTo(what: string, session: string, fallback: string, value: unknown, durable: boolean): Where | null {
  try {
    writeJsonAtomic(session, value, durable);
    return 'session';
  } catch (err) {
    log(`cannot write the ${what} to ${session}: ${(err as Error).message}`);
  }
  try {
    writeJsonAtomic(fallback, value, durable);
    log(`the ${what} went to ${fallback} instead`);
    return 'runtime';
  } catch (err) {
    log(`cannot write the ${what} to ${fallback} either: ${(err as Error).message}`);
    return null;
  }
}

class EndFiles {
  private readonly fallback: FallbackFiles;

  private readonly socketPath: string;

  constructor(
    private readonly files: SessionFiles,
    config: SupervisorConfig,
  ) {
    this.fallback = fallbackFilesOf(config.socketPath);
    this.socketPath = config.socketPath;
  }

  /** The exit, durably; false when no disk took it (try again later). */
  saveExit(e: AgentExit, endedAt: number, reason: string): boolean {
    const rec: ExitRecord = { code: e.code, signal: e.signal, endedAt, reason };
    return saveTo('exit record', this.files.exit, this.fallback.exit, rec, true) !== null;
  }

  /** Every line of the screen, plain and with colours, with its size and cursor; false when no disk took it. */
  saveFinalScreen(data: FinalScreenData): boolean {
    // Not fsynced: megabytes, and only for `capture` after the end (the exit is durable).
    return saveTo('final screen', this.files.screen, this.fallback.screen, data, false) !== null;
  }

  /**
   * Nobody can ever read the end: the session's directory and the socket are both gone
   * (the home and the runtime directory removed under a running supervisor). A full or
   * read-only disk leaves them in place.
   */
  unreachable(): boolean {
    return !fs.existsSync(this.files.dir) && !fs.existsSync(this.socketPath);
  }
}

/** A disk that took neither copy is tried again this often, for as long as it takes. */
const SAVE_RETRY_MS = 1000;
/** A held sessions lock is tried again this often… */
const RECORD_RETRY_MS = 50;
/** …for this long; then the record is left to the next CLI command (it reads the exit record). */
const RECORD_TRY_MS = 2000;

/**
 * The end, kept until it is on disk: the exit record and the final screen (retried every
 * SAVE_RETRY_MS while no disk takes them: the supervisor stays, and answers for them,
 * meanwhile), and the session's record (tried without waiting, RECORD_TRY_MS at most).
 */
export class EndSaver {
  private readonly end: EndFiles;
  private pending: Array<() => boolean> = [];
  private recording: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | null = null;
  private waiters: Array<() => void> = [];

  constructor(
    files: SessionFiles,
    private readonly config: SupervisorConfig,
  ) {
    this.end = new EndFiles(files, config);
  }

  /** Saves the exit now (and later, if it must), and starts recording it in the session's record. */
  exit(e: AgentExit, reason: string): void {
    const endedAt = Date.now();
    this.keep(() => this.end.saveExit(e, endedAt, reason));
    this.recording = this.record(e, reason);
  }

  finalScreen(screen: Screen): void {
    // Made once: a full history takes a few hundred ms to render, and a disk that refuses
    // it is tried again every second (it was rendered again each time: 9 % of a core).
    const data = screen.finalScreen();
    this.keep(() => this.end.saveFinalScreen(data));
  }

  /** Resolves once everything is saved and the record was tried. */
  async done(): Promise<void> {
    await this.recording;
    if (this.pending.length > 0) await new Promise<void>((r) => this.waiters.push(r));
  }

  private keep(save: () => boolean): void {
    if (save()) return;
    this.pending.push(save);
    this.retry ??= setInterval(() => {
      if (this.end.unreachable()) {
        log('the session directory and the socket are gone (removed): nobody can read the end, the supervisor leaves');
        this.pending = [];
      }
      this.pending = this.pending.filter((s) => !s());
      if (this.pending.length > 0) return;
      clearInterval(this.retry!);
      this.retry = null;
      if (!this.end.unreachable()) log('the end of the agent is on disk now');
      for (const w of this.waiters.splice(0)) w();
    }, SAVE_RETRY_MS);
  }

  private async record(e: AgentExit, reason: string): Promise<void> {
    // Loaded only now: the store code is not needed while the agent runs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { tryRecordExit } = require('./record-exit') as typeof import('./record-exit');
    const deadline = Date.now() + RECORD_TRY_MS;
    for (;;) {
      const r = tryRecordExit(this.config, e, reason);
      if (r === 'done') return;
      if (r === 'failed') return log('cannot update the session record (the next command will, from the exit record)');
      if (Date.now() > deadline) return log('the session file stayed locked: the next command will update the record');
      await new Promise((res) => setTimeout(res, RECORD_RETRY_MS));
    }
  }
}
