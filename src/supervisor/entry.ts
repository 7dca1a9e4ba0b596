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
 * The rehearsal's lines, then its snapshots, one line apart. V8 compiles optimized code on
 * the main thread only here (--single-threaded), and a copy inherits what the standby
 * compiled: quick runs of the cold attach, in turns, 59.3 / 55.2 ms with 12 snapshots
 * against 67.9 / 60.0 with one (the standby's start 270 ms of CPU against 180, once), and
 * 60.8 / 57.9 / 58.5 with half of the lines plain against 65.0 / 58.2 / 63.7 with none
 * (the plain lines' chunks take a way of their own). 3 000 lines took 5-6 ms off too, for
 * 400-600 ms of CPU and 7 MB more in the standby. (All measured while a full collection
 * after the rehearsal still threw most of that code away: src/standby/rehearsal.ts.)
 */
const REHEARSAL_LINES = 200;
const REHEARSAL_SNAPSHOTS = 12;

/** The rehearsal's mirror, kept (see rehearse). */
export interface Rehearsal {
  /** Its snapshots again: a full collection threw away the code they had optimized. */
  again(): Promise<void>;
  /** Lets the mirror go (its timers stopped; freed by the next collection). */
  drop(): void;
}

/**
 * For the standby, whose copies become supervisors (src/standby/copy.ts): everything
 * loaded, and a mirror made, fed coloured and plain lines past its screen and snapshotted,
 * so that the code a supervisor runs at start and at its first attach is compiled once in
 * the standby and shared by every copy instead of compiled in each (xterm's terminal was
 * ~16 ms of a copy's ~60 ms of CPU; a first serialization of a screen 18-27 ms against
 * 0.3-0.6 later). The mirror is kept: the code optimized for its objects stays valid while
 * they live, and its snapshots can be made again (src/standby/rehearsal.ts). Nothing
 * else runs.
 */
export async function rehearse(): Promise<Rehearsal> {
  loadAll();
  /* eslint-disable-next-line @typescript-eslint/no-require-imports */
  const { Screen } = require('./mirror/screen') as typeof import('./mirror/screen');
  // Chunks of 8 lines after 16: the history's ways run too.
  const screen = new Screen(120, 40, 1000, 1 << 20, true, 8, 16);
  // Coloured lines, then plain ones (a chunk of plain lines takes a way of its own).
  const line = (i: number) =>
    Buffer.from(
      i < REHEARSAL_LINES / 2
        ? `\x1b[3${i % 8}m${String(i).padStart(4)}\x1b[0m ${'rehearsal '.repeat(1 + (i % 11))}\r\n`
        : `rehearsal line ${String(i).padStart(5, '0')}: ${'plain text '.repeat(1 + (i % 6))}\r\n`,
    );
  const snapshots = async (): Promise<void> => {
    for (let round = 0; round < REHEARSAL_SNAPSHOTS; round++) {
      screen.write(line(round));
      await new Promise<void>((resolve) => screen.snapshot(() => resolve()));
    }
  };
  try {
    for (let i = 0; i < REHEARSAL_LINES; i++) screen.write(line(i));
    await screen.flush();
    screen.warm();
    await snapshots();
  } catch (err) {
    screen.dispose();
    throw err;
  }
  return { again: snapshots, drop: () => screen.letGo() };
}
