import type { Observation } from '../backends/backend';
import { toIso } from '../store/time';
import { utcIso } from '../utc-iso';
import { type SessionRecord, backendOf } from '../store/types';
import type { AgentInfo } from './types';

/** A session's record, with what its backend observed of it (when it was asked). */
export function agentInfo(rec: SessionRecord, obs: Observation | undefined): AgentInfo {
  const running = rec.status === 'Running';
  return {
    id: rec.uuid,
    sessionName: rec.tmux_session_name,
    backend: backendOf(rec),
    status: rec.status,
    reason: rec.status_reason ?? null,
    command: rec.agent_command,
    workdir: rec.working_directory,
    createdAt: toIso(rec.created_at),
    lastAttached: rec.last_attached ? toIso(rec.last_attached) : null,
    endedAt: rec.ended_at ? toIso(rec.ended_at) : null,
    pid: rec.agent_pid ?? null,
    supervisorPid: rec.supervisor_pid ?? null,
    exitCode: rec.exit_code ?? null,
    exitSignal: rec.exit_signal ?? null,
    cols: running ? (obs?.cols ?? null) : null,
    rows: running ? (obs?.rows ?? null) : null,
    viewers: running ? (obs?.viewers ?? null) : null,
    activity: running ? (obs?.activity ?? null) : null,
    state: running ? (obs?.agentState?.state ?? null) : rec.status === 'Starting' ? 'starting' : 'exited',
    stateReason: running ? (obs?.agentState?.reason ?? null) : (rec.status_reason ?? null),
    stateSince: running ? isoOrNull(obs?.agentState?.since ?? null) : rec.ended_at ? toIso(rec.ended_at) : null,
    lastOutputAt: running && obs?.lastOutputAt ? utcIso(obs.lastOutputAt) : null,
    queued: running ? (obs?.queued ?? null) : null,
    responding: running && obs ? obs.responding !== false : null,
  };
}

/** ms since the epoch as ISO 8601, or null. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : utcIso(ms);
}
