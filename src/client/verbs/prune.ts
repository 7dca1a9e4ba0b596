import { errorMessage } from '../../errors';
import { syncSessions } from '../../sessions/sync';
import { updateSessions } from '../../store/file';
import { toMillis } from '../../store/time';
import { type SessionRecord, isEnded } from '../../store/types';
import type { Context } from '../context';
import type { PruneResult } from '../types';

// Removes every ended session with what it kept (final screen, exit record, a dead tmux
// pane, an agent that outlived its supervisor). A session restarted or replaced while
// prune runs is left alone.

function sameRun(a: SessionRecord, b: SessionRecord): boolean {
  return toMillis(a.created_at) === toMillis(b.created_at);
}

export async function prune(ctx: Context): Promise<PruneResult> {
  const { sessions } = await syncSessions(ctx.backends, { detail: false });
  const out: PruneResult = { pruned: [], failed: [] };
  for (const rec of [...sessions.values()].filter(isEnded)) {
    try {
      await ctx.backends.for(rec).kill(rec);
    } catch (err) {
      out.failed.push({ id: rec.uuid, error: errorMessage(err) });
      continue;
    }
    const removed = updateSessions(ctx.sessionsFile, (map) => {
      const cur = map.get(rec.uuid);
      if (!cur || !sameRun(cur, rec) || !isEnded(cur)) return false;
      map.delete(rec.uuid);
      return true;
    });
    if (removed) out.pruned.push(rec.uuid);
  }
  return out;
}
