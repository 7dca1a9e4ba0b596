import type { KillResult } from '../../backends/backend';
import { findSession } from '../../sessions/find';
import { updateSessions } from '../../store/file';
import { toMillis } from '../../store/time';
import type { Context } from '../context';

/**
 * Ends the agent (if it runs) and every process that descends from it, removes what it
 * kept and its record. Processes of its run that had daemonised themselves are left, and named.
 */
export async function kill(ctx: Context, rawId: string): Promise<KillResult> {
  const rec = await findSession(ctx.backends, rawId);
  const result = await ctx.backends.for(rec).kill(rec);
  updateSessions(ctx.sessionsFile, (map) => {
    // Only the run we ended: a session spawned again under this id meanwhile stays.
    const cur = map.get(rec.uuid);
    if (cur && toMillis(cur.created_at) === toMillis(rec.created_at)) map.delete(rec.uuid);
  });
  return result;
}
