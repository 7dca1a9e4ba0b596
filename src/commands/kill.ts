import { backendFor } from '../backends';
import { updateSessions } from '../store/file';
import { findSession } from './session';

export async function killCommand(rawId: string): Promise<void> {
  const rec = await findSession(rawId);
  await backendFor(rec).kill(rec);
  updateSessions((map) => {
    map.delete(rec.uuid);
  });
  process.stdout.write(`Agent session ${rec.uuid} killed\n`);
}
