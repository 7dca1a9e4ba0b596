import type { Observation } from '../backends/backend';
import { backendFor } from '../backends';
import { UserError, errorMessage } from '../errors';
import { readSessions, updateSessions } from './file';
import { markEnded } from './status';
import { now, toMillis } from './time';
import { type SessionMap, type SessionRecord, backendOf, isEnded } from './types';

// The design's auto-sync: before every command, each recorded session is checked against
// what its backend really sees, and the file is corrected under the lock.

/** A session younger than this may still be starting: its backend may not show it yet. */
const STARTING_GRACE_MS = 30_000;

export interface Synced {
  sessions: SessionMap;
  observations: Map<string, Observation>;
  /** Backends that could not be asked (e.g. tmux missing), with the reason. */
  unavailable: Map<string, string>;
}

export async function syncSessions(): Promise<Synced> {
  const current = readSessions();
  const byBackend = new Map<string, SessionRecord[]>();
  for (const rec of current.values()) {
    const list = byBackend.get(backendOf(rec)) ?? [];
    list.push(rec);
    byBackend.set(backendOf(rec), list);
  }
  const observations = new Map<string, Observation>();
  const unavailable = new Map<string, string>();
  for (const [name, recs] of byBackend) {
    try {
      const obs = await backendFor(recs[0]!).observe(recs);
      for (const [id, o] of obs) observations.set(id, o);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      unavailable.set(name, errorMessage(err));
    }
  }
  const sessions = updateSessions((map) => {
    for (const [id, obs] of observations) {
      const rec = map.get(id);
      const seen = current.get(id);
      // Only correct the record we observed, not one replaced meanwhile by another command.
      if (!rec || !seen || toMillis(rec.created_at) !== toMillis(seen.created_at)) continue;
      applyObservation(rec, obs);
    }
    return new Map(map);
  });
  return { sessions, observations, unavailable };
}

export function applyObservation(rec: SessionRecord, obs: Observation): void {
  if (obs.supervisorPid !== undefined && obs.supervisorPid !== null) rec.supervisor_pid = obs.supervisorPid;
  if (obs.agentPid !== undefined && obs.agentPid !== null) rec.agent_pid = obs.agentPid;
  switch (obs.state) {
    case 'running':
      if (rec.status !== 'Running') {
        rec.status = 'Running';
        rec.status_reason = null;
        rec.exit_code = null;
        rec.exit_signal = null;
        rec.ended_at = null;
      }
      return;
    case 'ended':
      markEnded(rec, obs.exitCode ?? null, obs.exitSignal ?? null, obs.reason ?? null);
      return;
    case 'missing': {
      if (isEnded(rec)) return;
      const age = Date.now() - toMillis(rec.created_at);
      if (rec.status === 'Starting' && age < STARTING_GRACE_MS) return;
      rec.status = 'Crashed';
      rec.status_reason = obs.reason ?? 'gone';
      rec.ended_at = rec.ended_at ?? now();
      return;
    }
  }
}

