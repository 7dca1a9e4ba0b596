import * as fs from 'node:fs';

// Reading our own state files: never through a symlink planted where the file should be
// (O_NOFOLLOW: ELOOP instead), and never blocking on a FIFO planted there (O_NONBLOCK: a
// FIFO without a writer reads as empty or fails, a regular file reads as usual).

const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/**
 * Most files we read fit (a status file ~700 bytes, /proc/PID/stat ~300): one buffer for
 * them all. A larger file (the session file of 30 sessions or more) gets a buffer of its
 * own, not kept: a supervisor's memory does not keep the largest file it ever read.
 */
const scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * What is left to read from `fd`, as text: read until the end into one buffer, without the
 * stat and the fresh buffer of readFileSync (/proc files say they are empty; `list` reads a
 * hundred status files and a hundred /proc files). `shortReadEnds`: the file gives less
 * than asked only at its end (a regular file; a /proc file of one record, as
 * /proc/PID/stat, but not one of many, as /proc/PID/maps), so no second read is needed to
 * hear the end: 200 fewer syscalls for `list` at 100 agents.
 */
export function readToEnd(fd: number, encoding: BufferEncoding, shortReadEnds: boolean): string {
  let buf = scratch;
  let len = 0;
  for (;;) {
    if (len === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 4);
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    const room = buf.length - len;
    const n = fs.readSync(fd, buf, len, room, null);
    len += n;
    if (n === 0 || (shortReadEnds && n < room)) break;
  }
  return buf.toString(encoding, 0, len);
}

/** The file's text; throws what open or read throws (ENOENT, ELOOP for a symlink, EISDIR…). */
export function readFileNoFollow(file: string, encoding: BufferEncoding = 'utf8'): string {
  const fd = fs.openSync(file, FLAGS);
  try {
    // What else could be planted there (a FIFO) reads short too, and its decoder refuses it as before.
    return readToEnd(fd, encoding, true);
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
