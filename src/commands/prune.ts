import { backendFor } from '../backends';
import { errorMessage } from '../errors';
import { updateSessions } from '../store/file';
import { syncSessions } from '../store/sync';
import { toMillis } from '../store/time';
import { type SessionRecord, isEnded } from '../store/types';

// `agent prune`: removes every ended session with what it kept (final screen, exit
// record, a dead tmux pane, an agent that outlived its supervisor). A session restarted
// or replaced while prune runs is left alone.

function sameRun(a: SessionRecord, b: SessionRecord): boolean {
  return toMillis(a.created_at) === toMillis(b.created_at);
}

export async function pruneCommand(): Promise<void> {
  const { sessions } = await syncSessions({ detail: false });
  const pruned: string[] = [];
  const failed: string[] = [];
  for (const rec of [...sessions.values()].filter(isEnded)) {
    try {
      await backendFor(rec).kill(rec);
    } catch (err) {
      failed.push(`${rec.uuid} (${errorMessage(err)})`);
      continue;
    }
    const removed = updateSessions((map) => {
      const cur = map.get(rec.uuid);
      if (!cur || !sameRun(cur, rec) || !isEnded(cur)) return false;
      map.delete(rec.uuid);
      return true;
    });
    if (removed) pruned.push(rec.uuid);
  }
  const n = pruned.length;
  process.stdout.write(n === 0 ? 'No ended agent sessions to prune\n' : `Pruned ${n} ended agent session${n === 1 ? '' : 's'}: ${pruned.join(', ')}\n`);
  if (failed.length > 0) {
    process.stderr.write(`Warning: could not clean up ${failed.join('; ')}; their records were kept. Try \`agent kill ID\` for each.\n`);
  }
}
