import * as fs from 'node:fs';
import { UserError } from '../errors';
import { randomSecret } from './auth';
import { WebLimits } from './limits';

// The token: a new one per run, or the one kept in --token-file (created 0600 when missing,
// so that a bookmark or a phone's saved URL keeps working across restarts).

export interface Token {
  value: string;
  /** generated: this run only; created: written to the file now; file: read from it. */
  origin: 'generated' | 'created' | 'file';
}

/** What a token may hold: it travels in a header and a URL fragment. */
const TOKEN_CHARS = /^[A-Za-z0-9._~+/=-]+$/;

function readToken(file: string): string {
  const st = fs.statSync(file);
  if (!st.isFile()) throw new UserError(`Token file ${file} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new UserError(`Token file ${file} can be read by other users (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${file}`);
  }
  const token = fs.readFileSync(file, 'utf8').trim();
  if (token.length < WebLimits.MinTokenChars || !TOKEN_CHARS.test(token)) {
    throw new UserError(
      `Token file ${file} must hold one token of at least ${WebLimits.MinTokenChars} letters, digits or ._~+/=- (remove the file to have one made)`,
    );
  }
  return token;
}

export function obtainToken(file: string | undefined): Token {
  if (file === undefined) return { value: randomSecret(), origin: 'generated' };
  if (fs.existsSync(file)) return { value: readToken(file), origin: 'file' };
  const value = randomSecret();
  try {
    fs.writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') return { value: readToken(file), origin: 'file' };
    throw new UserError(`Cannot write the token file ${file}: ${e.message}`);
  }
  return { value, origin: 'created' };
}
