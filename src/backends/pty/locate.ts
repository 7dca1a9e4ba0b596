import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Places } from '../../places';
import { readSupervisorConfig } from '../../store/session-dir';
import { toMillis } from '../../store/time';
import type { SessionRecord } from '../../store/types';
import { checkRuntimeDir } from '../../sys/private-dir';

// Where a pty session's supervisor listens. The socket's directory comes from the
// environment (SYMPOSIUM_RUNTIME_DIR, XDG_RUNTIME_DIR), which differs between a login
// shell, cron, sudo and ssh: a live agent was unreachable from any of them while `list`
// said Running. So the path its supervisor really listens on is recorded at spawn (the
// record's socket_path, and supervisor.json for sessions of earlier versions), and used
// when nothing is where this environment would put it.

/** A socket of ours in a directory of ours: checked before a recorded path is trusted. */
function ourSocket(p: string): boolean {
  try {
    checkRuntimeDir(path.dirname(p));
    const st = fs.lstatSync(p);
    return st.isSocket() && st.uid === process.getuid!();
  } catch {
    return false;
  }
}

/** The path this session's supervisor listens on, as recorded when it was started; null when unknown. */
export function recordedSocket(places: Places, rec: SessionRecord): string | null {
  if (rec.socket_path) return rec.socket_path;
  const config = readSupervisorConfig(places.sessionFiles(rec.uuid).config);
  return config && config.id === rec.uuid && config.createdAtMs === toMillis(rec.created_at) ? config.socketPath : null;
}

/** This session's socket: where this environment puts it, else where it was recorded (if a socket of ours is there). */
export function socketOf(places: Places, rec: SessionRecord): string {
  let computed: string | null = null;
  let refused: unknown = null;
  try {
    computed = places.socketPath(rec.uuid);
    if (fs.existsSync(computed)) return computed;
  } catch (err) {
    refused = err; // this environment's runtime directory is unusable: the recorded one may do
  }
  const recorded = recordedSocket(places, rec);
  // Named for this id (a record copied from another session's must not reach that one).
  if (recorded && recorded !== computed && path.basename(recorded).endsWith(`-${rec.uuid}.sock`) && ourSocket(recorded)) return recorded;
  if (computed === null) throw refused;
  return computed;
}
