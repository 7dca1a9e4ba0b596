import { backendFor } from '../backends';
import { UserError } from '../errors';
import { updateSessions } from '../store/file';
import { now } from '../store/time';
import { findSession, requireRunning } from './session';

export interface AttachFlags {
  readOnly?: boolean;
  detachKey?: string;
  print?: boolean;
}

/** Parses `C-\`, `^\`, `ctrl-a`… into the control byte it stands for. */
export function parseDetachKey(spec: string): number {
  const m = /^(?:C-|\^|ctrl-|ctrl\+)(.)$/i.exec(spec.trim());
  if (m) {
    const ch = m[1]!.toUpperCase().charCodeAt(0);
    if (ch >= 0x40 && ch <= 0x5f) return ch - 0x40;
    if (m[1] === '?') return 0x7f;
  }
  throw new UserError(`Invalid detach key ${JSON.stringify(spec)}: use a control key such as C-\\, C-b or C-]`);
}

export async function attachCommand(rawId: string, flags: AttachFlags): Promise<number> {
  const rec = await findSession(rawId);
  requireRunning(rec, 'attach');
  const detachKey = parseDetachKey(flags.detachKey ?? 'C-\\');
  const backend = backendFor(rec);
  const printOnly = flags.print === true || (backend.name === 'tmux' && !process.stdout.isTTY);
  // Recorded once the screen is shown: an attach that fails does not count, and the
  // file's lock and fsync do not delay the first picture.
  const onAttached = () =>
    updateSessions((map) => {
      const r = map.get(rec.uuid);
      if (r) r.last_attached = now();
    });
  return backend.attach(rec, { readOnly: flags.readOnly === true, detachKey, printOnly, onAttached });
}
