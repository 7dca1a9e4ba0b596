import * as fs from 'node:fs';
import { UserError, describeFsError, fsErrorAdvice } from '../errors';
import * as path from 'node:path';
import { checkPrivateDir, ensurePrivateDir } from '../sys/private-dir';
import { readFileNoFollow } from '../sys/read-file';
import { FormatError, decodeFile, encodeFile } from './codec';
import { LOCK_BUSY, tryLockSync, withLockSync } from './lock';
import { writeFileAtomic } from '../sys/atomic-write';
import type { SessionMap } from './types';

// Reading and writing agent-sessions.json: every change happens under the lock and lands
// with an atomic rename of a temporary file, fsynced unless the change may be lost in a
// power cut (see UpdateOptions), so a crash never leaves half a file. A file we cannot
// decode is never overwritten.

export function readSessions(file: string): SessionMap {
  // A home someone else controls could hold anything: refused before it is read.
  if (!checkPrivateDir(path.dirname(file))) return new Map();
  let text: string;
  try {
    text = readFileNoFollow(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return new Map();
    throw new UserError(`Cannot read the session file ${file}: ${describeFsError(e)}. ${fsErrorAdvice(e)}`, { cause: err });
  }
  try {
    return decodeFile(text);
  } catch (err) {
    if (err instanceof FormatError) {
      throw new UserError(
        `The session file ${file} is invalid: ${err.message}. It was left untouched; fix or move it away to continue.`,
      );
    }
    throw err;
  }
}

export function writeSessionsAtomic(map: SessionMap, file: string, durable = true): void {
  try {
    writeFileAtomic(file, encodeFile(map), { durable });
  } catch (err) {
    throw new UserError(
      `Cannot write the session file ${file}: ${describeFsError(err)}. The previous file was left intact. ${fsErrorAdvice(err)}`,
      { cause: err },
    );
  }
}

export interface UpdateOptions {
  /**
   * false: not fsynced. Only for a change that a power cut may undo without harm, because
   * what it records does not survive one either (a process's pids) and the next sync
   * finds the truth again; the rename still never leaves half a file.
   */
  durable?: boolean;
}

/**
 * Read-modify-write under the lock. `fn` edits the map in place and returns a value;
 * the file is rewritten only when the encoded content changed.
 */
export function updateSessions<T>(file: string, fn: (map: SessionMap) => T, opts: UpdateOptions = {}): T {
  ensurePrivateDir(path.dirname(file));
  return withLockSync(`${file}.lock`, () => readModifyWrite(file, fn, opts.durable !== false));
}

/** updateSessions without waiting: LOCK_BUSY when another process holds the lock now (for the supervisor). */
export function tryUpdateSessions<T>(file: string, fn: (map: SessionMap) => T, opts: UpdateOptions = {}): T | typeof LOCK_BUSY {
  ensurePrivateDir(path.dirname(file));
  return tryLockSync(`${file}.lock`, () => readModifyWrite(file, fn, opts.durable !== false));
}

function readModifyWrite<T>(file: string, fn: (map: SessionMap) => T, durable: boolean): T {
  const map = readSessions(file);
  const before = encodeFile(map);
  const result = fn(map);
  const exists = fs.existsSync(file);
  if (encodeFile(map) !== before || !exists) writeSessionsAtomic(map, file, durable);
  return result;
}
