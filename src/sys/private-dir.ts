import * as fs from 'node:fs';
import { UserError, describeFsError, fsErrorAdvice } from '../errors';

// Directories only we may use: the home, the session directories and the socket
// directory. A directory someone else controls could have our files swapped or read.

/** Creates a private directory (0700) or tightens one we own. */
export function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.statSync(dir);
    if (!st.isDirectory()) throw new UserError(`${dir} exists and is not a directory. Move it aside, or set SYMPOSIUM_HOME to another directory.`);
    if ((st.mode & 0o077) !== 0 && st.uid === process.getuid!()) fs.chmodSync(dir, 0o700);
  } catch (err) {
    if (err instanceof UserError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`Cannot create the directory ${dir}: ${describeFsError(e)}. ${fsErrorAdvice(e)}`, { cause: err });
  }
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
  if (st.uid !== process.getuid!()) {
    throw new UserError(
      `Runtime directory ${dir} is owned by uid ${st.uid}, not by you (uid ${process.getuid!()}); refusing to use it. Remove it, or set SYMPOSIUM_RUNTIME_DIR to a directory of yours.`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw new UserError(`Runtime directory ${dir} has mode ${(st.mode & 0o777).toString(8)}; it must be 700. Run: chmod 700 ${dir}`);
  }
}
