import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST_DIR } from '../../dist-dir';

// The native helper, native/relay.c built into dist/symposium-relay at install (by the C
// compiler node-pty needs anyway): the key relay, the flood pump, and the peer check of
// the terminal hand-over. Without a compiler it is missing, and each user says what it
// does instead.

/** The install's build, or null when it was not built. */
function installedBinary(): string | null {
  const p = path.join(DIST_DIR, 'symposium-relay');
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return p;
  } catch {
    return null;
  }
}

/**
 * The helper this supervisor runs, taken at its start: a hard link (else a copy) of the one
 * the install built, in the session's directory, so that an upgrade replacing the install
 * directory cannot hand this supervisor a helper of another version later. Null when it was
 * not built or cannot be taken.
 */
export function takeNativeBinary(sessionDir: string): string | null {
  const built = installedBinary();
  if (!built) return null;
  const own = path.join(sessionDir, 'symposium-relay');
  try {
    fs.rmSync(own, { force: true });
    try {
      fs.linkSync(built, own);
    } catch {
      fs.copyFileSync(built, own, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(own, 0o700);
    }
    return own;
  } catch {
    return null;
  }
}
