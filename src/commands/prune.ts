import { backendFor } from '../backends';
import { updateSessions } from '../store/file';
import { syncSessions } from '../store/sync';
import { isEnded } from '../store/types';

export async function pruneCommand(): Promise<void> {
  const { sessions } = await syncSessions();
  const ended = [...sessions.values()].filter(isEnded);
  for (const rec of ended) await backendFor(rec).kill(rec);
  updateSessions((map) => {
    for (const rec of ended) {
      const cur = map.get(rec.uuid);
      if (cur && isEnded(cur)) map.delete(rec.uuid);
    }
  });
  const n = ended.length;
  process.stdout.write(n === 0 ? 'No ended agent sessions to prune\n' : `Pruned ${n} ended agent session${n === 1 ? '' : 's'}: ${ended.map((r) => r.uuid).join(', ')}\n`);
}
