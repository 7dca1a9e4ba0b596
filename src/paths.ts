import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError, describeFsError, fsErrorAdvice } from './errors';

// Where state lives. SYMPOSIUM_HOME replaces ~/.symposium; SYMPOSIUM_RUNTIME_DIR replaces
// the per-user socket directory (tests and benchmarks use both).

export function symposiumHome(): string {
  const override = process.env.SYMPOSIUM_HOME;
  if (override) return path.resolve(override);
  // The Rust tool fell back to /tmp when $HOME was unset.
  const home = process.env.HOME || '/tmp';
  return path.join(home, '.symposium');
}

export function sessionsFile(): string {
  return path.join(symposiumHome(), 'agent-sessions.json');
}

/** Per-session state: supervisor log, exit record, final screen, task queue. */
export function sessionDir(id: string): string {
  return path.join(symposiumHome(), 'sessions', id);
}

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

export function runtimeBaseDir(): string {
  const override = process.env.SYMPOSIUM_RUNTIME_DIR;
  if (override) return path.resolve(override);
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg) return path.join(xdg, 'symposium');
  return path.join(os.tmpdir(), `symposium-${process.getuid!()}`);
}

/**
 * The socket directory, created 0700 and checked on every use like tmux does:
 * owned by us, not a symlink, no access for group or others.
 */
export function runtimeDir(): string {
  const dir = runtimeBaseDir();
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'EEXIST') {
      throw new UserError(
        `Cannot create the runtime directory ${dir}: ${describeFsError(e)}. Set SYMPOSIUM_RUNTIME_DIR to a directory of yours (mode 700).`,
        { cause: err },
      );
    }
  }
  checkRuntimeDir(dir);
  return dir;
}

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
    throw new UserError(
      `Runtime directory ${dir} has mode ${(st.mode & 0o777).toString(8)}; it must be 700. Run: chmod 700 ${dir}`,
    );
  }
}

/** Linux sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/** The first 8 hex digits of sha256(SYMPOSIUM_HOME): the prefix of this home's sockets. */
export function homeTag(): string {
  return crypto.createHash('sha256').update(symposiumHome()).digest('hex').slice(0, 8);
}

/**
 * One socket per agent. A short hash of SYMPOSIUM_HOME keeps two homes (tests, a second
 * user profile) from colliding in one runtime directory.
 */
export function socketPath(id: string, dir = runtimeDir()): string {
  const p = path.join(dir, `${homeTag()}-${id}.sock`);
  if (Buffer.byteLength(p) > MAX_SOCKET_PATH) {
    throw new UserError(
      `Socket path ${p} is ${Buffer.byteLength(p)} bytes; Unix sockets allow ${MAX_SOCKET_PATH}. Use a shorter id or set SYMPOSIUM_RUNTIME_DIR to a shorter directory.`,
    );
  }
  return p;
}
