import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultBackendName, getBackend } from '../backends';
import { UserError, errorMessage } from '../errors';
import { checkId, sessionName } from '../ids';
import { updateSessions } from '../store/file';
import { now, toMillis } from '../store/time';
import type { SessionRecord } from '../store/types';

export interface SpawnFlags {
  uuid: string;
  workdir: string;
  backend?: string;
  cols?: number;
  rows?: number;
  size?: string;
  idle?: number;
}

export const DEFAULT_COLS = 120;
export const DEFAULT_ROWS = 40;
export const DEFAULT_IDLE_MS = 2000;

export function checkWorkdir(dir: string): string {
  const abs = path.resolve(dir);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new UserError(`Working directory ${abs} does not exist`);
  }
  if (!st.isDirectory()) throw new UserError(`Working directory ${abs} is not a directory`);
  return abs;
}

export async function spawnCommand(flags: SpawnFlags, command: string[]): Promise<void> {
  const id = checkId(flags.uuid);
  const workdir = checkWorkdir(flags.workdir);
  if (command.length === 0) throw new UserError('No command given: put the agent command after the options, e.g. `-- q chat --resume`');
  const backend = getBackend(defaultBackendName(flags.backend));
  const sizePolicy = flags.size ?? 'latest';
  if (sizePolicy !== 'latest' && sizePolicy !== 'smallest') {
    throw new UserError(`Unknown size policy ${JSON.stringify(sizePolicy)}: use latest or smallest`);
  }
  const tty = process.stdout.isTTY ? process.stdout : null;
  const cols = flags.cols ?? tty?.columns ?? DEFAULT_COLS;
  const rows = flags.rows ?? tty?.rows ?? DEFAULT_ROWS;
  const createdAt = now();

  updateSessions((map) => {
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
      cols,
      rows,
      sizePolicy,
      idleMs: flags.idle !== undefined ? Math.round(flags.idle * 1000) : DEFAULT_IDLE_MS,
      createdAtMs: toMillis(createdAt),
    });
  } catch (err) {
    // Nothing runs: drop the record we reserved (only ours, not a later one).
    updateSessions((map) => {
      const rec = map.get(id);
      if (rec && rec.created_at.secs_since_epoch === createdAt.secs_since_epoch && rec.created_at.nanos_since_epoch === createdAt.nanos_since_epoch) {
        map.delete(id);
      }
    });
    if (err instanceof UserError) throw err;
    throw new UserError(`Failed to spawn agent session ${id}: ${errorMessage(err)}`);
  }

  updateSessions((map) => {
    const rec = map.get(id);
    if (!rec) return;
    // The agent may already have ended (a quick command); the next sync records that.
    if (rec.status === 'Starting') rec.status = 'Running';
    rec.supervisor_pid = result.supervisorPid;
    rec.agent_pid = result.agentPid;
  });
  process.stdout.write('Agent session spawned successfully\n');
}
