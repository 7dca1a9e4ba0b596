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

/**
 * For the standby, whose copies become supervisors (src/standby/copy.ts): everything
 * loaded, and a mirror made, fed a line and dropped, so that the code a supervisor runs at
 * start is compiled once in the standby and shared by every copy instead of compiled in
 * each (xterm's terminal alone was ~16 ms of a copy's ~60 ms of CPU). Nothing else runs.
 */
export function rehearse(): void {
  loadAll();
  /* eslint-disable-next-line @typescript-eslint/no-require-imports */
  const { Screen } = require('./mirror/screen') as typeof import('./mirror/screen');
  const screen = new Screen(120, 40, 1000, 1 << 20);
  screen.write(Buffer.from('\x1b[1m$\x1b[0m ready\r\n'));
  screen.dispose();
}
