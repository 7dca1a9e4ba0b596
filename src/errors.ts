// User-facing errors: printed as `Error: <message>` on stderr with their exit code,
// never with a stack trace (SYMPOSIUM_DEBUG=1 shows the details, with the cause).

export class UserError extends Error {
  readonly exitCode: number;

  constructor(message: string, opts: number | { exitCode?: number; cause?: unknown } = {}) {
    const o = typeof opts === 'number' ? { exitCode: opts } : opts;
    super(message, o.cause !== undefined ? { cause: o.cause } : undefined);
    this.name = 'UserError';
    this.exitCode = o.exitCode ?? 1;
    // The CLI prints the stack in debug mode: let it show what went wrong underneath.
    if (o.cause instanceof Error && o.cause.stack) this.stack = `${this.stack}\nCaused by: ${o.cause.stack}`;
  }
}

/** Exit code of `agent wait` when its timeout passes (as timeout(1)). */
export const EXIT_TIMEOUT = 124;
/** Exit code of `agent wait --idle` / `--text` when the agent has ended instead: scripts tell "idle" from "gone". */
export const EXIT_GONE = 3;

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function debugEnabled(): boolean {
  return process.env.SYMPOSIUM_DEBUG === '1';
}

const FS_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'a symbolic link is in the way (refused)',
};

/** "no space left on the device (ENOSPC)" for a file system error. */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') return `${FS_ERRORS[e.code] ?? e.code} (${e.code})`;
  return errorMessage(err);
}

/** What to do about a file system error, as one sentence. */
export function fsErrorAdvice(err: unknown): string {
  switch ((err as NodeJS.ErrnoException)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'Free some disk space and try again.';
    case 'EROFS':
      return 'Remount it read-write, or set SYMPOSIUM_HOME to a writable directory.';
    case 'EACCES':
    case 'EPERM':
      return 'Fix the permissions, or set SYMPOSIUM_HOME to a directory you can write.';
    case 'ELOOP':
      return 'Remove the symlink (we never write through one), then try again.';
    case 'EISDIR':
    case 'ENOTDIR':
      return 'Move the thing in the way aside, or set SYMPOSIUM_HOME to another directory.';
    default:
      return 'Check the file system, then try again (SYMPOSIUM_DEBUG=1 shows details).';
  }
}
