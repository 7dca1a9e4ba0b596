import * as fs from 'node:fs';

// Reading our own state files: never through a symlink planted where the file should be
// (O_NOFOLLOW: ELOOP instead), and never blocking on a FIFO planted there (O_NONBLOCK: a
// FIFO without a writer reads as empty or fails, a regular file reads as usual).

const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** The file's text; throws what open or read throws (ENOENT, ELOOP for a symlink, EISDIR…). */
export function readFileNoFollow(file: string, encoding: BufferEncoding = 'utf8'): string {
  const fd = fs.openSync(file, FLAGS);
  try {
    return fs.readFileSync(fd, encoding);
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's text, or null when it cannot be read (missing, a symlink, unreadable). */
export function readFileOrNull(file: string, encoding: BufferEncoding = 'utf8'): string | null {
  try {
    return readFileNoFollow(file, encoding);
  } catch {
    return null;
  }
}

/** Opens a file to append to (a log), created 0600, never through a symlink. */
export function openForAppend(file: string): number {
  return fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
}
