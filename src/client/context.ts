import { Backends } from '../backends';
import { Places } from '../places';

// What every verb of the client library works with: the places of one environment and
// its backends.

export interface ClientOptions {
  /**
   * The environment to read SYMPOSIUM_HOME, SYMPOSIUM_RUNTIME_DIR, HOME… from, and that the
   * agents spawned through this client get (default: process.env).
   */
  env?: NodeJS.ProcessEnv;
}

export class Context {
  readonly env: NodeJS.ProcessEnv;
  readonly places: Places;
  readonly backends: Backends;

  constructor(opts: ClientOptions = {}) {
    this.env = opts.env ?? process.env;
    this.places = new Places(this.env);
    this.backends = new Backends(this.places, this.env);
  }

  get sessionsFile(): string {
    return this.places.sessionsFile;
  }
}
