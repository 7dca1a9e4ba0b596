import { backendFor } from '../backends';
import { UserError } from '../errors';
import { findSession, requireRunning } from './session';

export interface QueueFlags {
  list?: boolean;
  clear?: boolean;
  json?: boolean;
}

export async function queueCommand(rawId: string, text: string[], flags: QueueFlags): Promise<void> {
  const modes = [text.length > 0, flags.list === true, flags.clear === true].filter(Boolean).length;
  if (modes !== 1) throw new UserError('Give a task TEXT, or --list, or --clear (one of them)');
  const rec = await findSession(rawId);
  const backend = backendFor(rec);
  if (flags.list) {
    const entries = await backend.queueList(rec);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      return;
    }
    if (entries.length === 0) {
      process.stdout.write(`No tasks queued for agent session ${rec.uuid}\n`);
      return;
    }
    const lines = entries.map((e) => {
      const when = e.state === 'delivered' && e.deliveredAt ? `delivered ${new Date(e.deliveredAt).toISOString()}` : 'queued';
      const oneLine = e.text.replace(/\s+/g, ' ');
      const shown = oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
      return `  ${e.index}. [${when}] ${shown}`;
    });
    process.stdout.write(`Tasks for agent session ${rec.uuid}:\n${lines.join('\n')}\n`);
    return;
  }
  if (flags.clear) {
    const n = await backend.queueClear(rec);
    process.stdout.write(`Cleared ${n} queued task${n === 1 ? '' : 's'} for agent session ${rec.uuid}\n`);
    return;
  }
  requireRunning(rec, 'queue a task');
  const entry = await backend.queueAdd(rec, text.join(' '));
  process.stdout.write(`Task ${entry.index} queued for agent session ${rec.uuid}\n`);
}
