import * as fs from 'node:fs';
import { UserError, describeFsError, fsErrorAdvice } from '../errors';

// Directories only we may use: the home (~/.symposium or SYMPOSIUM_HOME), sessions/ and
// each sessions/ID/, and the socket directory. A directory someone else controls, or one
// others could write to, could have our files swapped: another user who edits
// agent-sessions.json makes `agent restart` run their command as us; one who plants a
// symlink makes us write where they choose. So each is checked as tmux checks its socket
// directory: a real directory (not a symlink), owned by us, with no write access for
// group or others.

function uid(): number {
  return process.getuid!();
}

/**
 * Checks a directory of our state: false when it does not exist, true when it is safe to
 * use; a UserError saying what to do otherwise. A directory of ours that others may only
 * read (0755: what the original tool created) is made 0700; one they may write to is
 * refused, since they may already have put something there.
 */
export function checkPrivateDir(dir: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return false;
    throw new UserError(`Cannot use the directory ${dir}: ${describeFsError(e)}. ${fsErrorAdvice(e)}`, { cause: err });
  }
  if (st.isSymbolicLink()) {
    throw new UserError(
      `${dir} is a symlink; refusing to use it (someone could point it elsewhere). Replace it with a directory of yours, or set SYMPOSIUM_HOME to a private directory.`,
    );
  }
  if (!st.isDirectory()) throw new UserError(`${dir} exists and is not a directory. Move it aside, or set SYMPOSIUM_HOME to another directory.`);
  if (st.uid !== uid()) {
    throw new UserError(
      `${dir} is owned by uid ${st.uid}, not by you (uid ${uid()}); refusing to use it (its owner could change our files). Remove it, or set SYMPOSIUM_HOME to a directory of yours.`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new UserError(
      `${dir} can be written by others (mode ${(st.mode & 0o777).toString(8)}); refusing to use it (they could have changed our files). Check what is in it, then run: chmod 700 ${dir}`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    try {
      fs.chmodSync(dir, st.mode & 0o700);
    } catch {
      /* a read-only file system: nobody can change anything in it either */
    }
  }
  return true;
}

/** Creates a private directory (0700), or checks an existing one (checkPrivateDir). */
export function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'EEXIST') throw new UserError(`Cannot create the directory ${dir}: ${describeFsError(e)}. ${fsErrorAdvice(e)}`, { cause: err });
  }
  if (!checkPrivateDir(dir)) throw new UserError(`Cannot create the directory ${dir}: it vanished while it was made. Try again.`);
}

/** The socket directory's checks: owned by us, not a symlink, no access for group or others. */
export function checkRuntimeDir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    throw new UserError(`Cannot use the runtime directory ${dir}: ${describeFsError(err)}.`, { cause: err });
  }
  // Sockets in a directory someone else controls could be swapped or read by them.
  if (st.isSymbolicLink()) {
    throw new UserError(
      `Runtime directory ${dir} is a symlink; refusing to use it (someone could point it elsewhere). Remove it, or set SYMPOSIUM_RUNTIME_DIR to a private directory.`,
    );
  }
  if (!st.isDirectory()) {
    throw new UserError(`Runtime directory ${dir} is not a directory. Remove it, or set SYMPOSIUM_RUNTIME_DIR to a private directory.`);
  }
  if (st.uid !== uid()) {
    throw new UserError(
      `Runtime directory ${dir} is owned by uid ${st.uid}, not by you (uid ${uid()}); refusing to use it. Remove it, or set SYMPOSIUM_RUNTIME_DIR to a directory of yours.`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw new UserError(`Runtime directory ${dir} has mode ${(st.mode & 0o777).toString(8)}; it must be 700. Run: chmod 700 ${dir}`);
  }
}
