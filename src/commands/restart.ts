import { backendFor } from '../backends';
import { UserError } from '../errors';
import { updateSessions } from '../store/file';
import { now, toMillis } from '../store/time';
import { DEFAULT_COLS, DEFAULT_IDLE_MS, DEFAULT_ROWS, checkWorkdir } from './spawn';
import { findSession } from './session';

export interface RestartFlags {
  cols?: number;
  rows?: number;
}

export async function restartCommand(rawId: string, flags: RestartFlags): Promise<void> {
  const rec = await findSession(rawId);
  if (rec.status === 'Running' || rec.status === 'Starting') {
    throw new UserError(`Agent session ${rec.uuid} is ${rec.status.toLowerCase()}: kill it first, or attach to it`);
  }
  const workdir = checkWorkdir(rec.working_directory);
  const backend = backendFor(rec);
  // Clear what the ended run left (kept screen, dead tmux pane) before starting again.
  await backend.kill(rec);
  const tty = process.stdout.isTTY ? process.stdout : null;
  const createdAt = now();
  updateSessions((map) => {
    const r = map.get(rec.uuid);
    if (!r) throw new UserError(`Agent session ${rec.uuid} not found`);
    r.status = 'Starting';
    r.status_reason = null;
    r.exit_code = null;
    r.exit_signal = null;
    r.ended_at = null;
    r.created_at = createdAt;
  });
  try {
    const res = await backend.spawn({
      id: rec.uuid,
      workdir,
      command: rec.agent_command,
      cols: flags.cols ?? tty?.columns ?? DEFAULT_COLS,
      rows: flags.rows ?? tty?.rows ?? DEFAULT_ROWS,
      sizePolicy: 'latest',
      idleMs: DEFAULT_IDLE_MS,
      createdAtMs: toMillis(createdAt),
    });
    updateSessions((map) => {
      const r = map.get(rec.uuid);
      if (!r) return;
      if (r.status === 'Starting') r.status = 'Running';
      r.supervisor_pid = res.supervisorPid;
      r.agent_pid = res.agentPid;
    });
  } catch (err) {
    updateSessions((map) => {
      const r = map.get(rec.uuid);
      if (!r) return;
      r.status = 'Crashed';
      r.status_reason = `restart failed: ${err instanceof Error ? err.message : String(err)}`;
      r.ended_at = now();
    });
    throw err;
  }
  process.stdout.write(`Agent session ${rec.uuid} restarted\n`);
}
