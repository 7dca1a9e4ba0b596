import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultBackendName } from '../../backends';
import { UserError, errorMessage } from '../../errors';
import { checkId, sessionName } from '../../ids';
import { Recording } from '../../recording/limits';
import { type RecordingSettings, recordingSettings } from '../../recording/settings';
import type { SessionHooks } from '../../store/session-dir';
import { readUserConfig } from '../../store/user-config';
import { updateSessions } from '../../store/file';
import { now, toMillis } from '../../store/time';
import type { SessionRecord } from '../../store/types';
import type { SpawnResult } from '../../backends/backend';
import { agentInfo } from '../agent-info';
import type { Context } from '../context';
import type { AgentInfo, SpawnOptions } from '../types';

export const DEFAULT_COLS = 120;
export const DEFAULT_ROWS = 40;
export const DEFAULT_IDLE_MS = 2000;

export function checkWorkdir(dir: string): string {
  const abs = path.resolve(dir);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    if (dir.startsWith('~')) {
      throw new UserError(
        `Working directory ${dir} does not exist: the shell did not expand "~" (it does not after "=", as in --workdir=~/x, nor inside quotes). Write --workdir ~/x or --workdir "$HOME/x".`,
      );
    }
    throw new UserError(`Working directory ${abs} does not exist`);
  }
  if (!st.isDirectory()) throw new UserError(`Working directory ${abs} is not a directory`);
  return abs;
}

/** A path to an executable file, or a name found on PATH (the whole word, spaces included). */
function isProgram(word: string, cwd: string, env: NodeJS.ProcessEnv): boolean {
  const candidates = word.includes('/') ? [path.resolve(cwd, word)] : (env.PATH ?? '').split(':').map((d) => path.join(d || '.', word));
  return candidates.some((c) => {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return fs.statSync(c).isFile();
    } catch {
      return false;
    }
  });
}

/** Where the session runs, as its backend started it: later commands find it there whatever their environment. */
export function recordWhere(rec: SessionRecord, res: SpawnResult): void {
  if (res.socketPath !== undefined) rec.socket_path = res.socketPath;
  else if (rec.socket_path !== undefined) rec.socket_path = null;
  if (res.tmuxSocket !== undefined) rec.tmux_socket = res.tmuxSocket;
  else if (rec.tmux_socket !== undefined) rec.tmux_socket = null;
}

/** The session's hooks: the options, else ~/.symposium/config.json's; null when there are none. */
export function hooksFor(opts: Pick<SpawnOptions, 'hooks' | 'onIdle' | 'onBlocked' | 'onExit'>, home: string): SessionHooks | null {
  const c = readUserConfig(home);
  const h: SessionHooks = {
    agent: opts.hooks ?? c.agentHooks,
    onIdle: opts.onIdle ?? c.onIdle,
    onBlocked: opts.onBlocked ?? c.onBlocked,
    onExit: opts.onExit ?? c.onExit,
  };
  return h.agent || h.onIdle || h.onBlocked || h.onExit ? h : null;
}

/** What the session records: the options, else SYMPOSIUM_RECORD=0 of the environment turns it off. */
export function recordingFor(opts: Pick<SpawnOptions, 'record' | 'recordInput' | 'recordCapBytes'>, env: NodeJS.ProcessEnv): RecordingSettings {
  const cap = opts.recordCapBytes ?? Recording.DefaultCapBytes;
  if (!Number.isSafeInteger(cap) || cap < Recording.MinCapBytes || cap > Recording.MaxCapBytes) {
    throw new UserError(`The recording cap must be from ${Recording.MinCapBytes / 1024} KiB to ${Recording.MaxCapBytes / 1024 ** 2} MiB`);
  }
  const enabled = opts.record ?? env.SYMPOSIUM_RECORD !== '0';
  return recordingSettings(enabled, opts.recordInput === true, cap);
}

function checkSize(n: number | undefined, what: string): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 1000)) throw new UserError(`${what} must be an integer from 1 to 1000`);
}

/** Starts `command` in a new background session; resolves once the agent really runs. */
export async function spawn(ctx: Context, opts: SpawnOptions): Promise<AgentInfo> {
  const id = checkId(opts.id);
  const workdir = checkWorkdir(opts.workdir);
  const command = opts.command;
  const backendName = defaultBackendName(opts.backend, ctx.env);
  if (!Array.isArray(command) || command.length === 0 || command[0] === '') {
    throw new UserError('No command given: put the agent command after the options, e.g. `-- q chat --resume`');
  }
  if (command.length === 1 && /\s/.test(command[0]!.trim()) && backendName !== 'tmux' && !isProgram(command[0]!, workdir, ctx.env)) {
    const words = command[0]!.trim().split(/\s+/);
    throw new UserError(
      `No program named "${command[0]}": the command and its arguments were given as one word. Pass them as separate words: -- ${words.join(' ')}`,
    );
  }
  checkSize(opts.cols, 'cols');
  checkSize(opts.rows, 'rows');
  const recording = recordingFor(opts, ctx.env);
  const backend = ctx.backends.get(backendName);
  if (backend.name === 'tmux' && (opts.hooks || opts.onIdle || opts.onBlocked || opts.onExit)) {
    throw new UserError('Hooks need the pty backend: tmux sessions have no supervisor of ours to run them');
  }
  const hooks = backend.name === 'pty' ? hooksFor(opts, ctx.places.home) : null;
  const sizePolicy = opts.sizePolicy ?? 'latest';
  if (sizePolicy !== 'latest' && sizePolicy !== 'smallest') {
    throw new UserError(`Unknown size policy ${JSON.stringify(sizePolicy)}: use latest or smallest`);
  }
  const createdAt = now();
  const file = ctx.sessionsFile;

  updateSessions(file, (map) => {
    if (map.has(id)) throw new UserError(`Agent session ${id} already exists`);
    const rec: SessionRecord = {
      uuid: id,
      tmux_session_name: sessionName(id),
      agent_command: command,
      working_directory: workdir,
      status: 'Starting',
      created_at: createdAt,
      last_attached: null,
      backend: backend.name,
    };
    map.set(id, rec);
  });

  let result;
  try {
    result = await backend.spawn({
      id,
      workdir,
      command,
      cols: opts.cols ?? DEFAULT_COLS,
      rows: opts.rows ?? DEFAULT_ROWS,
      sizePolicy,
      idleMs: opts.idleMs ?? DEFAULT_IDLE_MS,
      createdAtMs: toMillis(createdAt),
      recording,
      hooks,
      restart: false,
    });
  } catch (err) {
    // Nothing runs: drop the record we reserved (only ours, not a later one).
    updateSessions(file, (map) => {
      const rec = map.get(id);
      if (rec && toMillis(rec.created_at) === toMillis(createdAt) && rec.created_at.nanos_since_epoch === createdAt.nanos_since_epoch) {
        map.delete(id);
      }
    });
    if (err instanceof UserError) throw err;
    throw new UserError(`Failed to spawn agent session ${id}: ${errorMessage(err)}`);
  }

  // Not fsynced (~7 ms on ext4, with the lock held): a power cut ends the agent too, and a
  // session whose Running record was lost is still there as Starting, which a sync finds
  // ended just the same. The reservation above is durable: it is what a restart after a
  // reboot needs (the command, the directory).
  const rec = updateSessions(
    file,
    (map) => {
      const r = map.get(id);
      if (!r) return null;
      // The agent may already have ended (a quick command); the next sync records that.
      if (r.status === 'Starting') r.status = 'Running';
      r.supervisor_pid = result.supervisorPid;
      r.agent_pid = result.agentPid;
      recordWhere(r, result);
      return structuredClone(r);
    },
    { durable: false },
  );
  if (!rec) throw new UserError(`Agent session ${id} was removed by another command while it started`);
  return agentInfo(rec, undefined);
}
