import { backendFor } from '../backends';
import { updateSessions } from '../store/file';
import { toMillis } from '../store/time';
import { findSession } from './session';

export async function killCommand(rawId: string): Promise<void> {
  const rec = await findSession(rawId);
  await backendFor(rec).kill(rec);
  updateSessions((map) => {
    // Only the run we ended: a session spawned again under this id meanwhile stays.
    const cur = map.get(rec.uuid);
    if (cur && toMillis(cur.created_at) === toMillis(rec.created_at)) map.delete(rec.uuid);
  });
  process.stdout.write(`Agent session ${rec.uuid} killed\n`);
}
