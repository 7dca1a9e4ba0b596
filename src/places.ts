import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError, describeFsError } from './errors';
import { checkRuntimeDir } from './sys/private-dir';
import { type SessionFiles, sessionFilesIn } from './store/session-dir';
import { sha256Hex } from './sys/sha256';

// Where state lives, for one environment: the home (~/.symposium, or SYMPOSIUM_HOME), its
// session file and per-session directories, and the runtime directory of the sockets
// (SYMPOSIUM_RUNTIME_DIR, else $XDG_RUNTIME_DIR/symposium, else /tmp/symposium-UID).
// Everything below the CLI gets one of these instead of reading the environment itself.

/** Linux sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/**
 * The user's home: $HOME, else the password database's entry for our uid. Never a shared
 * directory such as /tmp, which another user could create first.
 */
export function userHome(env: NodeJS.ProcessEnv): string {
  if (env.HOME) return env.HOME;
  let home = '';
  try {
    home = os.userInfo().homedir;
  } catch {
    /* no entry for this uid */
  }
  if (!home || !path.isAbsolute(home)) {
    throw new UserError('HOME is not set and this user has no home directory in the password database: set HOME or SYMPOSIUM_HOME.');
  }
  return home;
}

export class Places {
  /** ~/.symposium or SYMPOSIUM_HOME. */
  readonly home: string;
  /** The socket directory, not yet created or checked (see runtimeDir). */
  readonly runtimeBase: string;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.home = env.SYMPOSIUM_HOME ? path.resolve(env.SYMPOSIUM_HOME) : path.join(userHome(env), '.symposium');
    if (env.SYMPOSIUM_RUNTIME_DIR) this.runtimeBase = path.resolve(env.SYMPOSIUM_RUNTIME_DIR);
    else if (env.XDG_RUNTIME_DIR) this.runtimeBase = path.join(env.XDG_RUNTIME_DIR, 'symposium');
    else this.runtimeBase = path.join(os.tmpdir(), `symposium-${process.getuid!()}`);
  }

  get sessionsFile(): string {
    return path.join(this.home, 'agent-sessions.json');
  }

  get sessionsDir(): string {
    return path.join(this.home, 'sessions');
  }

  /** Per-session state: supervisor log, exit record, final screen, task queue. */
  sessionDir(id: string): string {
    return path.join(this.sessionsDir, id);
  }

  sessionFiles(id: string): SessionFiles {
    return sessionFilesIn(this.sessionDir(id));
  }

  /** The socket directory, created 0700 and checked on every use like tmux does. */
  runtimeDir(): string {
    const dir = this.runtimeBase;
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

  /** The first 8 hex digits of sha256(home): the prefix of this home's sockets. */
  get homeTag(): string {
    return (this.tag ??= sha256Hex(this.home).slice(0, 8));
  }
  private tag: string | undefined;

  /**
   * One socket per agent. A short hash of the home keeps two homes (tests, a second user
   * profile) from colliding in one runtime directory.
   */
  socketPath(id: string, dir = this.runtimeDir()): string {
    const p = path.join(dir, `${this.homeTag}-${id}.sock`);
    if (Buffer.byteLength(p) > MAX_SOCKET_PATH) {
      throw new UserError(
        `Socket path ${p} is ${Buffer.byteLength(p)} bytes; Unix sockets allow ${MAX_SOCKET_PATH}. Use a shorter id or set SYMPOSIUM_RUNTIME_DIR to a shorter directory.`,
      );
    }
    return p;
  }
}

