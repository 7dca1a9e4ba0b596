import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST_DIR } from '../../dist-dir';

// The native helper, native/relay.c built into dist/symposium-relay at install (by the C
// compiler node-pty needs anyway): the key relay, the flood pump, and the peer check of
// the terminal hand-over. Without a compiler it is missing, and each user says what it
// does instead.

/** Its path, or null when it was not built. */
export function nativeBinary(): string | null {
  const p = path.join(DIST_DIR, 'symposium-relay');
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return p;
  } catch {
    return null;
  }
}
