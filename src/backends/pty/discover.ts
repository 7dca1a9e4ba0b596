import * as fs from 'node:fs';
import { type SupervisorConfig, readExitRecord, readSupervisorConfig, sessionFiles } from '../../store/session-dir';
import type { Discovered, Incarnation } from '../backend';
import { SupervisorClient } from './client';
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

function configFor(id: string): SupervisorConfig | null {
  const c = readSupervisorConfig(sessionFiles(id).config);
  return c && c.id === id ? c : null;
}


async function askStatus(sock: string): Promise<Record<string, unknown> | null> {
  let client: SupervisorClient;
  try {
    client = await SupervisorClient.connect(sock, { mode: 'control', timeoutMs: STATUS_TIMEOUT_MS });
  } catch {
    return null;
  }
  try {
    return await client.request({ op: 'status' }, STATUS_TIMEOUT_MS);
  } catch {
    return null;
  } finally {
    client.close();
  }
}

async function discoverLive(id: string, sock: string): Promise<Discovered | null> {
  const config = configFor(id);
  if (!config || config.socketPath !== sock) return null;
  const st = fs.lstatSync(sock, { throwIfNoEntry: false });
  if (!st?.isSocket() || st.uid !== process.getuid!()) return null;
  const s = await askStatus(sock);
  if (!s || s.id !== id || s.ended === true) return null; // an ending one leaves its exit record
  const observation = observationFromStatus(s);
  return { id, incarnation: incarnationOf(config), observation, stillThere: () => fs.existsSync(sock) };
}

/** A session that ended while nobody had its record: its kept screen stays reachable. */
function discoverEnded(id: string): Discovered | null {
  const files = sessionFiles(id);
  const config = configFor(id);
  const exit = readExitRecord(files.exit);
  if (!config || !exit || exit.endedAt < config.createdAtMs) return null;
  return {
    id,
    incarnation: incarnationOf(config),
    observation: { state: 'ended', exitCode: exit.code, exitSignal: exit.signal, reason: exit.reason },
    stillThere: () => fs.existsSync(files.exit),
  };
}

export async function discoverSessions(known: ReadonlySet<string>): Promise<Discovered[]> {
  const live = [...socketIds()].filter(([id]) => !known.has(id));
  const found = (await Promise.all(live.map(([id, sock]) => discoverLive(id, sock)))).filter(
    (d): d is Discovered => d !== null,
  );
  const seen = new Set(found.map((d) => d.id));
  for (const id of sessionDirIds()) {
    if (known.has(id) || seen.has(id)) continue;
    const d = discoverEnded(id);
    if (d) found.push(d);
  }
  return found;
}
