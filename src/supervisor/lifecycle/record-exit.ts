import { LOCK_BUSY } from '../../store/lock';
import { tryUpdateSessions } from '../../store/file';
import { markEnded } from '../../store/status';
import { type SupervisorConfig, sessionsFileOf } from '../../store/session-dir';
import { toMillis } from '../../store/time';
import type { AgentExit } from './agent-process';

// The session's record in agent-sessions.json turns Stopped or Crashed right away, without
// waiting for the next CLI command's sync (which would record it from the exit record
// anyway). Never waiting for the lock: a held lock froze the supervisor's event loop for
// 15 s at the agent's exit (no viewer got anything, every request timed out). Loaded
// lazily by the supervisor.

/** 'busy': another process holds the lock now (try again later); 'failed': it cannot be written. */
export function tryRecordExit(config: SupervisorConfig, e: AgentExit, reason: string): 'done' | 'busy' | 'failed' {
  try {
    const r = tryUpdateSessions(sessionsFileOf(config), (map) => {
      const rec = map.get(config.id);
      // Only our own incarnation: a restarted or re-spawned session has another created_at.
      if (!rec || toMillis(rec.created_at) !== config.createdAtMs) return;
      markEnded(rec, e.code, e.signal, reason);
    });
    return r === LOCK_BUSY ? 'busy' : 'done';
  } catch {
    return 'failed';
  }
}
