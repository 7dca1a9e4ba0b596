import { UserError } from '../errors';
import type { Places } from '../places';
import { BACKENDS, type BackendName, type SessionRecord, backendOf } from '../store/types';
import type { Backend } from './backend';

// The backends of one set of places. Each is loaded on first use: `list` of pty sessions
// never loads the tmux code.

export class Backends {
  private readonly cache = new Map<BackendName, Backend>();

  /** `env`: what the sessions started from here get (and where tmux is found). */
  constructor(
    readonly places: Places,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get(name: BackendName): Backend {
    let b = this.cache.get(name);
    if (!b) {
      /* eslint-disable @typescript-eslint/no-require-imports */
      b =
        name === 'tmux'
          ? new (require('./tmux') as typeof import('./tmux')).TmuxBackend(this.env)
          : new (require('./pty') as typeof import('./pty')).PtyBackend(this.places, this.env);
      /* eslint-enable @typescript-eslint/no-require-imports */
      this.cache.set(name, b);
    }
    return b;
  }

  for(rec: SessionRecord): Backend {
    return this.get(backendOf(rec));
  }
}

export function parseBackendName(value: string, source: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new UserError(`Unknown backend ${JSON.stringify(value)} in ${source}: use ${BACKENDS.join(' or ')}`);
}

/** The flag, else SYMPOSIUM_AGENT_BACKEND, else pty. */
export function defaultBackendName(flag: string | undefined, env: NodeJS.ProcessEnv): BackendName {
  if (flag !== undefined) return parseBackendName(flag, '--backend');
  if (env.SYMPOSIUM_AGENT_BACKEND) return parseBackendName(env.SYMPOSIUM_AGENT_BACKEND, 'SYMPOSIUM_AGENT_BACKEND');
  return 'pty';
}
