// Variables that make every Node process start slower and bigger, though our own processes
// never use them: NODE_EXTRA_CA_CERTS makes Node parse a CA bundle before any script runs
// (measured here: 40 ms of start-up and 1.1 MB of private memory per process), and we
// make no TLS connection. The launcher and the supervisor start without them; they travel
// under a SYMPOSIUM_HELD_ name and are put back for every program started for the user.

export const HELD_VARIABLES = ['NODE_EXTRA_CA_CERTS'] as const;
const PREFIX = 'SYMPOSIUM_HELD_';

/**
 * glibc's allocator settings for the supervisor's own process, set over the user's (whose
 * values, if any, are held and put back for the agent). An idle supervisor kept ~1 MB of
 * freed heap at the top of its malloc arena and one arena per thread; measured, median
 * private memory of idle supervisors (after V8's memory reducer): 11.16 -> 10.09 MB.
 */
export const SUPERVISOR_MALLOC_ENV = { MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '65536' } as const;
/** V8 flags that keep an idle supervisor small: one V8 worker thread instead of four, GC on
 *  the main thread (~0.7 MB less private memory each), a young generation capped at 4 MB
 *  (an idle one stays at 1 MB either way; measured: 1 MB cost a 100 MB flood 5-8 % in GC,
 *  4 MB raised its peak from 129 to 137 MB, 8 MB gained nothing more; a burst grows it to twice the
 *  cap, given back by V8's memory reducer ~10 s after: 2 MB saved 2.5 MiB of a full history's
 *  PSS read 3 s after its output, nothing once idle), no V8 work on other threads at all
 *  (--single-threaded: a copy of the standby, standby/copy.ts, has its main thread only, and
 *  optimizing compiles handed to a worker would never come back), and `gc` exposed for one
 *  collection after start-up (supervisor/lifecycle/settle-gc.ts). native/spawn.c starts a
 *  would-be supervisor with the same. */
export const SUPERVISOR_NODE_FLAGS = ['--max-semi-space-size=4', '--v8-pool-size=1', '--single-threaded-gc', '--single-threaded', '--expose-gc'];

/** Names the variables set over the user's environment for the supervisor only. */
const SET_FOR_SUPERVISOR = 'SYMPOSIUM_SUPERVISOR_SET';

/** A copy of `env` without the held variables, which travel under their SYMPOSIUM_HELD_ names. */
export function holdBack(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of HELD_VARIABLES) {
    const value = out[name];
    if (value === undefined) continue;
    out[PREFIX + name] = value;
    delete out[name];
  }
  return out;
}

/** The environment a supervisor starts with: the held variables held, the allocator's set. */
export function supervisorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = holdBack(env);
  for (const [name, value] of Object.entries(SUPERVISOR_MALLOC_ENV)) {
    const user = out[name];
    if (user !== undefined) out[PREFIX + name] = user;
    out[name] = value;
  }
  out[SET_FOR_SUPERVISOR] = Object.keys(SUPERVISOR_MALLOC_ENV).join(',');
  return out;
}

/** Puts the held variables back under their own names (in place), and takes away what was
 *  set for the supervisor only. */
export function restoreHeld(env: NodeJS.ProcessEnv): void {
  const set = env[SET_FOR_SUPERVISOR];
  if (set !== undefined) {
    for (const name of set.split(',')) {
      delete env[name];
      const user = env[PREFIX + name];
      if (user !== undefined) env[name] = user;
      delete env[PREFIX + name];
    }
    delete env[SET_FOR_SUPERVISOR];
  }
  for (const name of HELD_VARIABLES) {
    const value = env[PREFIX + name];
    if (value === undefined) continue;
    env[name] = value;
    delete env[PREFIX + name];
  }
}
