import { UserError } from '../errors';
import { checkId } from '../ids';
import { syncSessions } from '../store/sync';
import type { SessionRecord } from '../store/types';

/** Sync, then find one session by id: the common first step of every per-session verb. */
export async function findSession(rawId: string): Promise<SessionRecord> {
  const id = checkId(rawId);
  const { sessions, unavailable } = await syncSessions();
  const rec = sessions.get(id);
  if (!rec) throw new UserError(`Agent session ${id} not found`);
  const why = unavailable.get(rec.backend ?? 'tmux');
  if (why) throw new UserError(why);
  return rec;
}

export function requireRunning(rec: SessionRecord, what: string): void {
  if (rec.status === 'Crashed' || rec.status === 'Stopped') {
    const reason = rec.status_reason ? ` (${rec.status_reason})` : '';
    throw new UserError(
      `Agent session ${rec.uuid} has ended${reason}: cannot ${what}. Use \`agent restart ${rec.uuid}\` to start it again or \`agent kill ${rec.uuid}\` to remove it.`,
    );
  }
}
