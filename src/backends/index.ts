import { UserError } from '../errors';
import { BACKENDS, type BackendName, type SessionRecord, backendOf } from '../store/types';
import type { Backend } from './backend';

// Backends are loaded on first use: `list` of pty sessions never loads the tmux code.

const cache = new Map<BackendName, Backend>();

export function getBackend(name: BackendName): Backend {
  let b = cache.get(name);
  if (!b) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    b = name === 'tmux' ? new (require('./tmux').TmuxBackend)() : new (require('./pty').PtyBackend)();
    cache.set(name, b!);
  }
  return b!;
}

export function backendFor(rec: SessionRecord): Backend {
  return getBackend(backendOf(rec));
}

export function parseBackendName(value: string, source: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new UserError(`Unknown backend ${JSON.stringify(value)} in ${source}: use ${BACKENDS.join(' or ')}`);
}

/** --backend, else SYMPOSIUM_AGENT_BACKEND, else pty. */
export function defaultBackendName(flag: string | undefined): BackendName {
  if (flag !== undefined) return parseBackendName(flag, '--backend');
  const env = process.env.SYMPOSIUM_AGENT_BACKEND;
  if (env) return parseBackendName(env, 'SYMPOSIUM_AGENT_BACKEND');
  return 'pty';
}
