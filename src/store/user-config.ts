import * as path from 'node:path';
import { UserError } from '../errors';
import { readFileNoFollow } from '../sys/read-file';

// ~/.symposium/config.json: the user's settings for every session they spawn (a spawn's own
// options win). Only what is listed here is read; a file that is not valid JSON, or a
// setting of the wrong type, is an error that names the file (silently ignoring it would
// drop the hooks a user relies on).
//
//   { "agentHooks": true, "onIdle": "notify-send …", "onBlocked": "…", "onExit": "…" }

export interface UserConfig {
  /** `spawn --hooks` by default. */
  agentHooks: boolean;
  onIdle: string | null;
  onBlocked: string | null;
  onExit: string | null;
}

export const CONFIG_FILE = 'config.json';

const NONE: UserConfig = { agentHooks: false, onIdle: null, onBlocked: null, onExit: null };

export function readUserConfig(home: string): UserConfig {
  const file = path.join(home, CONFIG_FILE);
  let text: string;
  try {
    text = readFileNoFollow(file);
  } catch (err) {
    // No file, or no home yet (its own checks say what is wrong with it).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return NONE;
    throw new UserError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UserError(`${file} must hold a JSON object`);
  const o = v as Record<string, unknown>;
  const cmd = (k: string): string | null => {
    const c = o[k];
    if (c === undefined || c === null || c === '') return null;
    if (typeof c !== 'string') throw new UserError(`${file}: "${k}" must be a shell command (a string)`);
    return c;
  };
  if (o.agentHooks !== undefined && typeof o.agentHooks !== 'boolean') throw new UserError(`${file}: "agentHooks" must be true or false`);
  return { agentHooks: o.agentHooks === true, onIdle: cmd('onIdle'), onBlocked: cmd('onBlocked'), onExit: cmd('onExit') };
}
