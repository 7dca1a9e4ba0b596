import { UserError, errorMessage } from '../../errors';
import { findSession } from '../../sessions/find';
import { syncSessions } from '../../sessions/sync';
import { updateSessions } from '../../store/file';
import { readSupervisorConfig } from '../../store/session-dir';
import { now, toMillis } from '../../store/time';
import { backendOf, isEnded } from '../../store/types';
import { knownAgent } from '../../agents/known-agents';
import { agentInfo } from '../agent-info';
import type { Context } from '../context';
import type { AgentInfo, RestartOptions } from '../types';
import { DEFAULT_COLS, DEFAULT_IDLE_MS, DEFAULT_ROWS, checkWorkdir, hooksFor, recordWhere, recordingFor } from './spawn';

// A stopped or crashed session (after a reboot, all of them) starts again in its recorded
// directory and backend. A known agent resumes its last conversation there (claude
// --continue, codex resume --last…: src/agents/known-agents.ts) unless `fresh`; any other
// program runs its recorded command again.

export async function restart(ctx: Context, rawId: string, opts: RestartOptions = {}): Promise<AgentInfo> {
  const rec = await findSession(ctx.backends, rawId);
  if (!isEnded(rec)) {
    throw new UserError(
      `Agent session ${rec.uuid} is ${rec.status.toLowerCase()}: only a stopped or crashed session can be restarted. ` +
        `Attach to it with \`agent attach ${rec.uuid}\`, or end it with \`agent kill ${rec.uuid}\` and spawn it again.`,
    );
  }
  const workdir = checkWorkdir(rec.working_directory);
  const backend = ctx.backends.for(rec);
  // The settings of the last run (pty), read before its leftovers are cleared.
  const last = backendOf(rec) === 'pty' ? readSupervisorConfig(ctx.places.sessionFiles(rec.uuid).config) : null;
  const createdAt = now();
  const file = ctx.sessionsFile;
  // Claim the restart first: of two restarts at once only one passes, and the other
  // cannot clear away the run this one starts.
  updateSessions(file, (map) => {
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
    await backend.kill(rec, { keepHistory: true });
    const res = await backend.spawn({
      id: rec.uuid,
      workdir,
      command: opts.fresh ? rec.agent_command : (knownAgent(rec.agent_command)?.resume(rec.agent_command) ?? rec.agent_command),
      cols: opts.cols ?? last?.cols ?? DEFAULT_COLS,
      rows: opts.rows ?? last?.rows ?? DEFAULT_ROWS,
      sizePolicy: last?.sizePolicy ?? 'latest',
      idleMs: last?.idleMs ?? DEFAULT_IDLE_MS,
      createdAtMs: toMillis(createdAt),
      // As the last run recorded (a run from before recordings: as a new one would).
      recording: last?.recording ?? recordingFor({}, ctx.env),
      // As the last run had them (none for a run from before hooks); without its settings, as config.json says now.
      hooks: last ? (last.hooks ?? null) : hooksFor({}, ctx.places.home),
      restart: true,
    });
    const started = updateSessions(file, (map) => {
      const r = map.get(rec.uuid);
      if (!r || toMillis(r.created_at) !== toMillis(createdAt)) return null;
      if (r.status === 'Starting') r.status = 'Running';
      r.supervisor_pid = res.supervisorPid;
      r.agent_pid = res.agentPid;
      recordWhere(r, res);
      return structuredClone(r);
    });
    if (!started) throw new UserError(`Agent session ${rec.uuid} was replaced by another command while it restarted`);
    return agentInfo(started, undefined);
  } catch (err) {
    updateSessions(file, (map) => {
      const r = map.get(rec.uuid);
      if (!r || toMillis(r.created_at) !== toMillis(createdAt) || r.status !== 'Starting') return;
      r.status = 'Crashed';
      r.status_reason = `restart failed: ${errorMessage(err)}`;
      r.ended_at = now();
    });
    if (err instanceof UserError) throw err;
    throw new UserError(`Failed to restart agent session ${rec.uuid}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Why a session counts as ended by a reboot or a crash of its supervisor (not by its own exit). */
function endedByReboot(reason: string | null | undefined): boolean {
  return !!reason && /^(supervisor died|gone from tmux|never started)/.test(reason);
}

/** Restarts every session a reboot (or a dead supervisor) ended; each result in order. */
export async function restartAll(
  ctx: Context,
  opts: RestartOptions = {},
): Promise<Array<{ id: string; agent: AgentInfo | null; error: string | null }>> {
  const { sessions } = await syncSessions(ctx.backends, { detail: false });
  const out: Array<{ id: string; agent: AgentInfo | null; error: string | null }> = [];
  for (const rec of sessions.values()) {
    if (rec.status !== 'Crashed' || !endedByReboot(rec.status_reason)) continue;
    try {
      out.push({ id: rec.uuid, agent: await restart(ctx, rec.uuid, opts), error: null });
    } catch (err) {
      out.push({ id: rec.uuid, agent: null, error: errorMessage(err) });
    }
  }
  return out;
}
