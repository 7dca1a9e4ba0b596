import { backendFor } from '../backends';
import { UserError, errorMessage } from '../errors';
import { updateSessions } from '../store/file';
import { readSupervisorConfig, sessionFiles } from '../store/session-dir';
import { now, toMillis } from '../store/time';
import { backendOf, isEnded } from '../store/types';
import { DEFAULT_COLS, DEFAULT_IDLE_MS, DEFAULT_ROWS, checkWorkdir } from './spawn';
import { findSession } from './session';

// `agent restart ID`: a stopped or crashed session (after a reboot, all of them) starts
// again with its recorded command, workdir and backend. The agent's own history is the
// agent CLI's business (e.g. `q chat --resume`).

export interface RestartFlags {
  cols?: number;
  rows?: number;
}

export async function restartCommand(rawId: string, flags: RestartFlags): Promise<void> {
  const rec = await findSession(rawId);
  if (!isEnded(rec)) {
    throw new UserError(
      `Agent session ${rec.uuid} is ${rec.status.toLowerCase()}: only a stopped or crashed session can be restarted. ` +
        `Attach to it with \`agent attach ${rec.uuid}\`, or end it with \`agent kill ${rec.uuid}\` and spawn it again.`,
    );
  }
  const workdir = checkWorkdir(rec.working_directory);
  const backend = backendFor(rec);
  // The settings of the last run (pty), read before its leftovers are cleared.
  const last = backendOf(rec) === 'pty' ? readSupervisorConfig(sessionFiles(rec.uuid).config) : null;
  const tty = process.stdout.isTTY ? process.stdout : null;
  const createdAt = now();
  // Claim the restart first: of two restarts at once only one passes, and the other
  // cannot clear away the run this one starts.
  updateSessions((map) => {
    const r = map.get(rec.uuid);
    if (!r) throw new UserError(`Agent session ${rec.uuid} not found`);
    if (toMillis(r.created_at) !== toMillis(rec.created_at) || !isEnded(r)) {
      throw new UserError(`Agent session ${rec.uuid} was just restarted or replaced by another command. Run \`agent list\` to see it.`);
    }
    r.status = 'Starting';
    r.status_reason = null;
    r.exit_code = null;
    r.exit_signal = null;
    r.ended_at = null;
    r.created_at = createdAt;
    if (r.supervisor_pid !== undefined) r.supervisor_pid = null;
    if (r.agent_pid !== undefined) r.agent_pid = null;
  });
  try {
    // Clear what the ended run left (kept screen, dead tmux pane, an orphaned agent).
    await backend.kill(rec);
    const res = await backend.spawn({
      id: rec.uuid,
      workdir,
      command: rec.agent_command,
      cols: flags.cols ?? tty?.columns ?? last?.cols ?? DEFAULT_COLS,
      rows: flags.rows ?? tty?.rows ?? last?.rows ?? DEFAULT_ROWS,
      sizePolicy: last?.sizePolicy ?? 'latest',
      idleMs: last?.idleMs ?? DEFAULT_IDLE_MS,
      createdAtMs: toMillis(createdAt),
    });
    updateSessions((map) => {
      const r = map.get(rec.uuid);
      if (!r || toMillis(r.created_at) !== toMillis(createdAt)) return;
      if (r.status === 'Starting') r.status = 'Running';
      r.supervisor_pid = res.supervisorPid;
      r.agent_pid = res.agentPid;
    });
  } catch (err) {
    updateSessions((map) => {
      const r = map.get(rec.uuid);
      if (!r || toMillis(r.created_at) !== toMillis(createdAt)) return;
      r.status = 'Crashed';
      r.status_reason = `restart failed: ${errorMessage(err)}`;
      r.ended_at = now();
    });
    if (err instanceof UserError) throw err;
    throw new UserError(`Failed to restart agent session ${rec.uuid}: ${errorMessage(err)}`, { cause: err });
  }
  process.stdout.write(`Agent session ${rec.uuid} restarted\n`);
}
