// The supervisor bundle's entry (scripts/bundle.js): launch.ts loads it, then runs it. As
// main.ts: msgpackr's native decoder off before anything loads msgpackr.
process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED = 'true';

export { run, runHere } from './run';

/** Loads every module a supervisor loads at start, running none: what the build's code cache is made of. */
export function loadAll(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  require('./supervisor');
  require('./mirror/serialize-addon');
  /* eslint-enable @typescript-eslint/no-require-imports */
}
