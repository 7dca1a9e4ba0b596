import * as fs from 'node:fs';
import { SupervisorLink } from '../../link/supervisor-link';
import type { Places } from '../../places';
import type { StatusReply } from '../../protocol/ops';
import { type SupervisorConfig, readExitRecord, readSupervisorConfig } from '../../store/session-dir';
import type { Discovered, Incarnation } from '../backend';
import { sessionDirIds, socketIds } from './leftovers';
import { observationFromStatus } from './status';

// Adoption: finds the pty sessions of this home that agent-sessions.json does not list
// (the file was deleted, or restored from an old copy), from what each session keeps
// itself: a live supervisor's socket (named <home tag>-ID.sock) answering a status
// request, plus its supervisor.json; or, for a session that ended, its exit record.

const STATUS_TIMEOUT_MS = 2000;

function incarnationOf(c: SupervisorConfig): Incarnation {
  return { createdAtMs: c.createdAtMs, command: c.command, workdir: c.workdir };
}

function configFor(places: Places, id: string): SupervisorConfig | null {
  const c = readSupervisorConfig(places.sessionFiles(id).config);
  return c && c.id === id ? c : null;
}


async function askStatus(sock: string): Promise<StatusReply | null> {
  let client: SupervisorLink;
  try {
    client = await SupervisorLink.connect(sock, { mode: 'control', timeoutMs: STATUS_TIMEOUT_MS });
  } catch {
    return null;
  }
  try {
    return await client.request('status', {}, STATUS_TIMEOUT_MS);
  } catch {
    return null;
  } finally {
    client.close();
  }
}

async function discoverLive(places: Places, id: string, sock: string): Promise<Discovered | null> {
  const config = configFor(places, id);
  if (!config || config.socketPath !== sock) return null;
  const st = fs.lstatSync(sock, { throwIfNoEntry: false });
  if (!st?.isSocket() || st.uid !== process.getuid!()) return null;
  const s = await askStatus(sock);
  if (!s || s.id !== id || s.ended) return null; // an ending one leaves its exit record
  const observation = observationFromStatus(s);
  return { id, incarnation: incarnationOf(config), observation, stillThere: () => fs.existsSync(sock) };
}

/** A session that ended while nobody had its record: its kept screen stays reachable. */
function discoverEnded(places: Places, id: string): Discovered | null {
  const files = places.sessionFiles(id);
  const config = configFor(places, id);
  const exit = readExitRecord(files.exit);
  if (!config || !exit || exit.endedAt < config.createdAtMs) return null;
  return {
    id,
    incarnation: incarnationOf(config),
    observation: { state: 'ended', exitCode: exit.code, exitSignal: exit.signal, reason: exit.reason },
    stillThere: () => fs.existsSync(files.exit),
  };
}

export async function discoverSessions(places: Places, known: ReadonlySet<string>): Promise<Discovered[]> {
  const live = [...socketIds(places)].filter(([id]) => !known.has(id));
  const found = (await Promise.all(live.map(([id, sock]) => discoverLive(places, id, sock)))).filter(
    (d): d is Discovered => d !== null,
  );
  const seen = new Set(found.map((d) => d.id));
  for (const id of sessionDirIds(places)) {
    if (known.has(id) || seen.has(id)) continue;
    const d = discoverEnded(places, id);
    if (d) found.push(d);
  }
  return found;
}
