import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { UserError } from '../errors';

// A lock across processes: a lock file created with O_EXCL holding "pid nonce".
// A holder that died (its pid is gone) leaves a stale lock that the next taker removes;
// a lock older than STALE_MS is also taken over, so a hung holder cannot block forever.

const STALE_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 15_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(lockPath: string): string | null {
  let content: string;
  let mtimeMs: number;
  try {
    content = fs.readFileSync(lockPath, 'utf8');
    mtimeMs = fs.statSync(lockPath).mtimeMs;
  } catch {
    return null; // gone already: just retry
  }
  const pid = Number.parseInt(content.split(' ')[0] ?? '', 10);
  // An empty file is a holder between open and write: only its age can make it stale.
  if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) return content;
  if (Date.now() - mtimeMs > STALE_MS) return content;
  return null;
}

/** Removes a stale lock only if it is still the same lock we judged stale. */
function breakStale(lockPath: string, staleContent: string): void {
  const aside = `${lockPath}.stale-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(lockPath, aside);
  } catch {
    return;
  }
  const moved = fs.readFileSync(aside, 'utf8');
  if (moved === staleContent) {
    fs.rmSync(aside, { force: true });
    return;
  }
  // We took a fresh lock by mistake: put it back unless someone locked meanwhile.
  try {
    fs.linkSync(aside, lockPath);
  } catch {
    /* a new holder exists; the one we moved keeps running unaware, as with a stale break */
  }
  fs.rmSync(aside, { force: true });
}

export function withLockSync<T>(lockPath: string, fn: () => T, timeoutMs = DEFAULT_TIMEOUT_MS): T {
  const content = `${process.pid} ${crypto.randomBytes(8).toString('hex')}`;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    try {
      const fd = fs.openSync(lockPath, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
      try {
        fs.writeSync(fd, content);
      } finally {
        fs.closeSync(fd);
      }
      break;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'EEXIST') {
        throw new UserError(`Cannot create lock file ${lockPath}: ${e.code ?? e.message}`);
      }
    }
    const stale = isStale(lockPath);
    if (stale !== null) {
      breakStale(lockPath, stale);
      continue;
    }
    if (Date.now() > deadline) {
      throw new UserError(
        `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for the lock ${lockPath}. If no other symposium-mcp command is running, remove that file.`,
      );
    }
    sleepSync(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
  try {
    return fn();
  } finally {
    try {
      if (fs.readFileSync(lockPath, 'utf8') === content) fs.rmSync(lockPath, { force: true });
    } catch {
      /* already gone */
    }
  }
}
