import { updateSessions } from '../../store/file';
import { markEnded } from '../../store/status';
import { type SupervisorConfig, sessionsFileOf } from '../../store/session-dir';
import { toMillis } from '../../store/time';
import type { AgentExit } from './agent-process';

// Written once, when the agent has ended: the record turns Stopped or Crashed right away,
// without waiting for the next CLI command's sync. Loaded lazily by the supervisor.

export function recordExit(config: SupervisorConfig, e: AgentExit, reason: string): void {
  updateSessions(sessionsFileOf(config), (map) => {
    const rec = map.get(config.id);
    // Only our own incarnation: a restarted or re-spawned session has another created_at.
    if (!rec || toMillis(rec.created_at) !== config.createdAtMs) return;
    markEnded(rec, e.code, e.signal, reason);
  });
}
