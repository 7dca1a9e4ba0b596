import * as fs from 'node:fs';
import * as path from 'node:path';

// The one way a file is replaced: a new temporary file beside it (created exclusively,
// never through a symlink), written, fsynced, renamed over the old one; the directory is
// fsynced too when the write must be durable. On any failure the temporary file is
// removed (a leftover temp on a full disk keeps it full) and the old file stays whole.

export interface AtomicWriteOptions {
  /** fsync the file and its directory (default true). Off for copies a power cut may lose. */
  durable?: boolean;
  /** Mode of the new file (default 0600). */
  mode?: number;
}

/** Temporary names are unique within a process (and O_EXCL refuses any clash). */
let tempCount = 0;

export function writeFileAtomic(file: string, data: string | Buffer, opts: AtomicWriteOptions = {}): void {
  const durable = opts.durable !== false;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Date.now().toString(36)}-${(tempCount++).toString(36)}`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, opts.mode ?? 0o600);
    fs.writeFileSync(fd, data);
    if (durable) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        /* closed */
      }
    }
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* a read-only file system: nothing was created */
    }
    throw err;
  }
  if (!durable) return;
  try {
    const dfd = fs.openSync(dir, fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* the rename happened; a directory that cannot be fsynced is the file system's limit */
  }
}

/** JSON, compact, replaced atomically. */
export function writeJsonAtomic(file: string, value: unknown, durable = true): void {
  writeFileAtomic(file, JSON.stringify(value), { durable });
}
