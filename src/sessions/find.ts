import type { Backends } from '../backends';
import { UserError } from '../errors';
import { checkId, isValidId } from '../ids';
import { readSessions } from '../store/file';
import type { SessionRecord } from '../store/types';
import { syncSessions } from './sync';

/** Sync, then find one session by id: the common first step of every per-session verb. */
export async function findSession(backends: Backends, rawId: string): Promise<SessionRecord> {
  // The Rust tool did not check ids: a record it wrote may have one we refuse today
  // ("a.b"). Such a record can still be found (and killed) by its exact key; any other
  // invalid id is refused before anything is looked up.
  const old = !isValidId(rawId) && rawId.length > 0 ? readSessions(backends.places.sessionsFile).get(rawId) : undefined;
  const legacy = old !== undefined && old.backend === undefined;
  const id = legacy ? rawId : checkId(rawId);
  // Only the states must be true here; `agent list` asks for the details.
  const { sessions, unavailable } = await syncSessions(backends, { detail: false });
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
