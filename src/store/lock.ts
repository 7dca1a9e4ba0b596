import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, describeFsError, fsErrorAdvice } from '../errors';
import { cmdline, pidAlive, procStat } from '../sys/proc';
import { readFileOrNull } from '../sys/read-file';

// A lock across processes: a lock file holding "PID STARTTIME NONCE", made complete in a
// temporary file first and then hard-linked into place (link fails if the lock exists),
// so a lock file is never seen half-written. A lock whose holder is gone (its pid is dead,
// or was recycled: another start time) is stale and the next taker removes it. A live
// holder is never robbed: a waiter gives up after the timeout with an error naming it.

const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Hex digits that tell this process's lock files apart: unique, not secret, so not from
 * node:crypto, whose OpenSSL costs a command ~5 ms to load and a process that becomes an
 * agent's supervisor (spawn-front-end.ts) 0.8 MB for good (measured).
 */
function nonce(bytes: number): string {
  let out = '';
  for (let i = 0; i < bytes; i++) out += Math.floor(random() * 256).toString(16).padStart(2, '0');
  return out;
}

/**
 * Numbers in [0, 1) of this process's own (xorshift32, seeded from the pid and the clock):
 * the copies of the standby (standby/copy.ts) start from its Math.random state, so with it
 * each would draw the same numbers and back off in step.
 */
let seed = 0;
let seededBy = 0;
function random(): number {
  if (seededBy !== process.pid) {
    seededBy = process.pid;
    seed = (Math.imul(process.pid, 0x9e3779b1) ^ Number(process.hrtime.bigint() & 0xffffffffn)) >>> 0 || 1;
  }
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x100000000;
}

/** SYMPOSIUM_LOCK_TIMEOUT (seconds) overrides the default wait. */
export function lockTimeoutMs(): number {
  const v = Number(process.env.SYMPOSIUM_LOCK_TIMEOUT);
  return process.env.SYMPOSIUM_LOCK_TIMEOUT && Number.isFinite(v) && v >= 0 ? v * 1000 : DEFAULT_TIMEOUT_MS;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

interface Holder {
  pid: number;
  start: string | null;
}

function parseHolder(content: string): Holder | null {
  const [pidText, start] = content.split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  // Locks of older versions hold "PID NONCE": no start time to compare.
  return { pid, start: start && /^\d+$/.test(start) ? start : null };
}

function holderAlive(h: Holder): boolean {
  if (!pidAlive(h.pid)) return false; // gone, or a zombie: exited, not yet reaped
  const st = procStat(h.pid);
  if (st === null) return true; // no /proc: trust the pid
  return h.start === null || st.startTicks === h.start;
}

/** Removes a stale lock only if it is still the same lock we judged stale. */
function breakStale(lockPath: string, staleContent: string): void {
  const aside = `${lockPath}.stale-${process.pid}-${nonce(4)}`;
  try {
    fs.renameSync(lockPath, aside);
  } catch {
    return;
  }
  const moved = readFileOrNull(aside); // null: removed by another breaker
  if (moved !== null && moved !== staleContent) {
    // We moved a fresh lock by mistake: put it back unless someone locked meanwhile.
    try {
      fs.linkSync(aside, lockPath);
    } catch {
      /* a new holder exists; the one we moved keeps running unaware, as with a stale break */
    }
  }
  fs.rmSync(aside, { force: true });
}

/**
 * The lock's content, complete in a file of this taker's own, made once per acquire: every
 * try is then one link. (A file made and removed at each try, while ten spawns wait for the
 * lock, cost each spawn ~10 ms of CPU more than one alone: ext4 looks past the inodes freed
 * in the last seconds for each new one.)
 */
function makeCandidate(lockPath: string, content: string): string {
  const tmp = `${lockPath}.new-${process.pid}-${nonce(4)}`;
  try {
    fs.writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new UserError(`Cannot create the lock file ${lockPath}: ${describeFsError(err)}. Nothing was changed. ${fsErrorAdvice(err)}`, { cause: err });
  }
  return tmp;
}

/** Makes the lock in one step (a link of the candidate); false when someone else holds it. */
function tryLink(candidate: string, lockPath: string): boolean {
  try {
    fs.linkSync(candidate, lockPath);
    return true;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') return false;
    throw new UserError(`Cannot create the lock file ${lockPath}: ${describeFsError(e)}. Nothing was changed. ${fsErrorAdvice(e)}`, { cause: err });
  }
}

function readLock(lockPath: string): string | null {
  return readFileOrNull(lockPath);
}

/** Since the lock was taken: the link changed the file's ctime (its mtime is when its taker began to wait). */
function lockAgeMs(lockPath: string): number | null {
  try {
    return Date.now() - fs.statSync(lockPath).ctimeMs;
  } catch {
    return null;
  }
}

function describeHolder(h: Holder | null, ageMs: number | null): string {
  if (!h) return 'an unreadable lock';
  const what = cmdline(h.pid);
  const age = ageMs !== null ? `, for ${Math.round(ageMs / 1000)} s` : '';
  return `process ${h.pid}${what ? ` (${what.length > 80 ? `${what.slice(0, 77)}...` : what})` : ''}${age}`;
}

function lockContent(): string {
  return `${process.pid} ${procStat(process.pid)?.startTicks ?? '-'} ${nonce(8)}`;
}

/**
 * Takes the lock, breaking a stale one; false when a live holder has it (at once when
 * `deadline` is null, else once the deadline has passed: then a UserError names it).
 */
function acquire(lockPath: string, content: string, deadline: number | null, timeoutMs: number): boolean {
  const candidate = makeCandidate(lockPath, content);
  let waited = false;
  try {
    let delay = 2;
    while (!tryLink(candidate, lockPath)) {
      waited = true;
      const held = readLock(lockPath);
      if (held === null) continue; // released meanwhile
      const holder = parseHolder(held);
      // Unreadable content is not ours; give a writer of another version a moment anyway.
      if ((holder === null && (lockAgeMs(lockPath) ?? 0) > 2000) || (holder !== null && !holderAlive(holder))) {
        breakStale(lockPath, held);
        continue;
      }
      if (deadline === null) return false;
      if (Date.now() > deadline) {
        const by = describeHolder(holder, lockAgeMs(lockPath));
        const todo = holder ? `If that process is stuck, end it (kill ${holder.pid}) and try again.` : `If no symposium-mcp command is running, remove that file.`;
        throw new UserError(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for the lock ${lockPath}, held by ${by}. ${todo}`);
      }
      sleepSync(delay + random() * delay);
      delay = Math.min(delay * 2, 50);
    }
    if (waited) sweepCandidates(lockPath);
    return true;
  } finally {
    fs.rmSync(candidate, { force: true }); // linked or not: the lock, if ours, is the other name
  }
}

/**
 * Removes the candidates of takers that are gone: one killed while it waited (Ctrl-C, kill
 * -9 during its sleep) leaves its own behind. Looked for only after a wait, when there was
 * someone to leave one.
 */
function sweepCandidates(lockPath: string): void {
  const dir = path.dirname(lockPath);
  const prefix = `${path.basename(lockPath)}.new-`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) fs.rmSync(path.join(dir, name), { force: true });
  }
}

function runLocked<T>(lockPath: string, content: string, fn: () => T): T {
  try {
    return fn();
  } finally {
    if (readLock(lockPath) === content) fs.rmSync(lockPath, { force: true });
  }
}

/** Runs `fn` under the lock, waiting for it up to the timeout (a CLI command may wait). */
export function withLockSync<T>(lockPath: string, fn: () => T, timeoutMs = lockTimeoutMs()): T {
  const content = lockContent();
  acquire(lockPath, content, Date.now() + timeoutMs, timeoutMs);
  return runLocked(lockPath, content, fn);
}

/** What tryLockSync returns when a live holder has the lock. */
export const LOCK_BUSY: unique symbol = Symbol('lock busy');

/** Runs `fn` under the lock if it can be had now, never waiting (a supervisor must not block its event loop). */
export function tryLockSync<T>(lockPath: string, fn: () => T): T | typeof LOCK_BUSY {
  const content = lockContent();
  if (!acquire(lockPath, content, null, 0)) return LOCK_BUSY;
  return runLocked(lockPath, content, fn);
}
