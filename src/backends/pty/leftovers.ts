import * as fs from 'node:fs';
import * as path from 'node:path';
import { isValidId } from '../../ids';
import type { Places } from '../../places';
import { checkRuntimeDir } from '../../sys/private-dir';

// What pty sessions of this home leave on disk, found by listing two directories: cheap
// enough to run on every command, so the adoption code is loaded only when needed.

/** Ids of this home's sockets (<home tag>-ID.sock) in the runtime directory; none if it is unsafe. */
export function socketIds(places: Places): Map<string, string> {
  const out = new Map<string, string>();
  const dir = places.runtimeBase;
  try {
    checkRuntimeDir(dir);
  } catch {
    return out; // missing or refused: the commands that need it say why
  }
  const prefix = `${places.homeTag}-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  // path.join(dir, name) for a plain name, without normalizing dir again for each.
  const base = path.join(dir, path.sep);
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.sock')) continue;
    const id = name.slice(prefix.length, -'.sock'.length);
    if (isValidId(id)) out.set(id, base + name);
  }
  return out;
}

/** Ids that have a directory in $SYMPOSIUM_HOME/sessions. */
export function sessionDirIds(places: Places): string[] {
  try {
    return fs.readdirSync(places.sessionsDir).filter(isValidId);
  } catch {
    return [];
  }
}

/** Is anything there that the file does not know? */
export function hasUnknownLeftovers(places: Places, known: ReadonlySet<string>): boolean {
  for (const id of socketIds(places).keys()) if (!known.has(id)) return true;
  return sessionDirIds(places).some((id) => !known.has(id));
}
