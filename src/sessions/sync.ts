import type { Backends } from '../backends';
import type { Discovered, Observation } from '../backends/backend';
import { hasUnknownLeftovers } from '../backends/pty/leftovers';
import { UserError, errorMessage } from '../errors';
import { sessionName } from '../ids';
import { sameFile } from '../store/codec';
import { readSessions, updateSessions } from '../store/file';
import { markEnded } from '../store/status';
import { fromMillis, now, toMillis } from '../store/time';
import { type SessionMap, type SessionRecord, backendOf, isEnded } from '../store/types';

// The design's auto-sync: before every command, each recorded session is checked against
// what its backend really sees, sessions the file lost are adopted again from their own
// metadata, and the file is corrected under the lock (taken only when something changed).
// It reconciles the store with the backends, so it sits above both.

/** A session younger than this may still be starting: its backend may not show it yet. */
const STARTING_GRACE_MS = 30_000;

export interface Synced {
  sessions: SessionMap;
  observations: Map<string, Observation>;
  /** Backends that could not be asked (e.g. tmux missing), with the reason. */
  unavailable: Map<string, string>;
  /** Why the corrected records could not be saved (a full or read-only disk), or null. */
  notSaved: string | null;
}

/** File system errors that make the home unwritable for now, not wrong. */
const CANNOT_WRITE = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM']);

function cannotWrite(err: unknown): boolean {
  const cause = err instanceof UserError ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  return cause !== undefined && typeof cause.code === 'string' && CANNOT_WRITE.has(cause.code);
}

function cloneMap(map: SessionMap): SessionMap {
  return new Map([...map].map(([id, rec]) => [id, structuredClone(rec)]));
}

/** `detail`: also ask running sessions for size, viewers and activity (`agent list`). */
export async function syncSessions(backends: Backends, opts: { detail?: boolean } = {}): Promise<Synced> {
  const file = backends.places.sessionsFile;
  const current = readSessions(file);
  const byBackend = new Map<string, SessionRecord[]>();
  for (const rec of current.values()) {
    const list = byBackend.get(backendOf(rec)) ?? [];
    list.push(rec);
    byBackend.set(backendOf(rec), list);
  }
  const observations = new Map<string, Observation>();
  const unavailable = new Map<string, string>();
  for (const [name, recs] of byBackend) {
    try {
      const obs = await backends.for(recs[0]!).observe(recs, { detail: opts.detail !== false });
      for (const [id, o] of obs) observations.set(id, o);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      unavailable.set(name, errorMessage(err));
    }
  }
  const discovered = await discover(backends, new Set(current.keys()));
  for (const d of discovered) observations.set(d.id, d.observation);

  // Most commands change nothing: then the file is neither locked nor written.
  const planned = cloneMap(current);
  applyAll(planned, current, observations, discovered, () => true);
  if (sameFile(planned, current)) return { sessions: planned, observations, unavailable, notSaved: null };

  try {
    const sessions = updateSessions(file, (map) => {
      applyAll(map, current, observations, discovered, (d) => d.stillThere());
      return cloneMap(map);
    });
    return { sessions, observations, unavailable, notSaved: null };
  } catch (err) {
    // A home that cannot be written now (full, read-only): what was found is still true,
    // and is shown; it is saved by the first command that can.
    if (!cannotWrite(err)) throw err;
    return { sessions: planned, observations, unavailable, notSaved: errorMessage(err) };
  }
}

function applyAll(
  map: SessionMap,
  seenBefore: SessionMap,
  observations: Map<string, Observation>,
  discovered: Discovered[],
  stillThere: (d: Discovered) => boolean,
): void {
  for (const [id, obs] of observations) {
    const rec = map.get(id);
    const seen = seenBefore.get(id);
    // Only correct the record we observed: not one replaced meanwhile by another command,
    // nor one whose state another command changed meanwhile (a spawn that just finished:
    // our observation of its Starting record is stale). The next command syncs again.
    if (!rec || !seen || toMillis(rec.created_at) !== toMillis(seen.created_at)) continue;
    if (rec.status !== seen.status || rec.supervisor_pid !== seen.supervisor_pid || rec.agent_pid !== seen.agent_pid) continue;
    applyObservation(rec, obs);
  }
  for (const d of discovered) {
    // Added only if no command recorded this id meanwhile and the session is still there.
    if (map.has(d.id) || !stillThere(d)) continue;
    map.set(d.id, adoptedRecord(d));
  }
}

/** pty is the only backend whose sessions can outlive their record unseen (tmux lists by name). */
async function discover(backends: Backends, known: ReadonlySet<string>): Promise<Discovered[]> {
  if (!hasUnknownLeftovers(backends.places, known)) return [];
  const pty = backends.get('pty');
  const found = (await pty.discover?.(known)) ?? [];
  return found.sort((a, b) => a.incarnation.createdAtMs - b.incarnation.createdAtMs);
}

function adoptedRecord(d: Discovered): SessionRecord {
  const rec: SessionRecord = {
    uuid: d.id,
    tmux_session_name: sessionName(d.id),
    agent_command: d.incarnation.command,
    working_directory: d.incarnation.workdir,
    status: 'Starting',
    created_at: fromMillis(d.incarnation.createdAtMs),
    last_attached: null,
    backend: 'pty',
  };
  applyObservation(rec, d.observation);
  return rec;
}

export function applyObservation(rec: SessionRecord, obs: Observation): void {
  if (obs.incarnation) {
    // The record is from an old copy of the file: the session's own metadata wins.
    rec.created_at = fromMillis(obs.incarnation.createdAtMs);
    rec.agent_command = obs.incarnation.command;
    rec.working_directory = obs.incarnation.workdir;
    rec.ended_at = null;
  }
  if (obs.supervisorPid !== undefined && obs.supervisorPid !== null) rec.supervisor_pid = obs.supervisorPid;
  if (obs.agentPid !== undefined && obs.agentPid !== null) rec.agent_pid = obs.agentPid;
  switch (obs.state) {
    case 'running':
      if (rec.status !== 'Running') {
        rec.status = 'Running';
        rec.status_reason = null;
        rec.exit_code = null;
        rec.exit_signal = null;
        rec.ended_at = null;
      }
      return;
    case 'ended':
      markEnded(rec, obs.exitCode ?? null, obs.exitSignal ?? null, obs.reason ?? null);
      return;
    case 'missing': {
      const age = Date.now() - toMillis(rec.created_at);
      if (rec.status === 'Starting' && age < STARTING_GRACE_MS) return;
      if (isEnded(rec)) {
        // The reason may change while the session stays ended (its orphaned agent exits).
        if (rec.status === 'Crashed' && obs.reason && rec.status_reason?.startsWith('supervisor died')) rec.status_reason = obs.reason;
        return;
      }
      rec.status = 'Crashed';
      rec.status_reason = obs.reason ?? 'gone';
      rec.ended_at = rec.ended_at ?? now();
      return;
    }
  }
}
