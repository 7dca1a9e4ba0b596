import * as v8 from 'node:v8';
import { mallocTrim } from '../../sys/native-addon';
import { type MachineCpu, busyShare, machineCpu } from '../../sys/proc';

// Full garbage collections at the two moments V8 leaves memory behind longest. Its memory
// reducer compacts a heap only some 8 s after allocations calm down, and not always:
// - after start-up (the bundle parsed, xterm set up, the agent launched). Measured on idle
//   supervisors, median private memory once the reducer had run: 10.07 MB without this
//   collection, 9.68 MB with it (4 each, same run);
// - after a burst of output, which grows the young generation to twice its cap and fills
//   old space with parsed chunks. Measured after 10 000 coloured lines (1.3 MB): private
//   memory stayed at 23 MB for 16 s; one collection 5.6 s or more after the output's end
//   brought it to 16.4 MB (the young generation 8 -> 1 MB, old space -0.8 MB), one within
//   4.6 s changed nothing: V8 gives the young generation back only once the allocation rate
//   it measures over its last 5 s is low.
// Each takes a few ms (~15 ms with a full history), once per start or per burst.
//
// Each compacts the whole heap. A full collection frees objects where they lie and V8
// moves them together only on pages it finds fragmented enough (a fifth free or so), so an
// idle supervisor kept its old space ~0.4 MB larger than what lived in it (5.4 MB of
// pages for 5.0 MB of objects, measured); compacted, the pages hold what lives. V8 has no
// call for one compacting collection: its flag is set around ours only (node:v8 is loaded
// by the supervisor anyway, text-pattern.ts).
//
// And each gives the allocator's free pages back to the kernel (malloc_trim, native/
// addon.c): the buffers a burst freed leave holes between those that live on (the
// history's chunks, xterm's lines), which glibc keeps; measured with a full history 12 s
// after its output, 15.7 -> 13.1 MB private.

/** After `ready`: long enough for an agent's first screen, short against a session's life. */
export const SETTLE_GC_DELAY_MS = 2000;

/**
 * The collection after start-up waits, SETTLE_GC_DELAY_MS at a time, while the machine was
 * busier than this (a share of all its CPUs' time) since the last look. It costs ~26 ms of
 * CPU (measured, five supervisors: 25-29; a spawn's own is ~150), so in a spawn storm each
 * agent's collection took turns with the spawns still starting: 100 spawns, 10 at a time,
 * kept both cores busy and 100 collections were ~1.3 s of their ~9. Waiting, they run once
 * the storm is over. A machine busy for good gets it after SETTLE_GC_MAX_LOOKS looks.
 */
export const CALM_MACHINE_SHARE = 0.5;
/** Looks before it collects however busy the machine is: 30 s after start at the latest. */
export const SETTLE_GC_MAX_LOOKS = 15;

/** Output since the last collection that makes a calm moment worth one: a full screen
 *  redrawn by an agent is ~10 KB, a build log or a history replay megabytes. At 1 MiB, 5 000
 *  coloured lines (~450 KB) left a supervisor at 18.8 MB private for over 40 s (V8's own
 *  reducer got it to 10.7 by 70 s); at 256 KiB it is 11.7 MB 10 s after, for one
 *  collection (~40 ms of CPU with that heap) per such calm moment. */
export const BURST_BYTES = 256 * 1024;

/** From a calm moment (WARM_AFTER_MS = 500 ms of quiet, ../warm-up.ts) to the collection:
 *  past V8's 5 s window of allocation rate, with a margin. */
export const COLLECT_AFTER_CALM_MS = 6000;

type Gc = () => void;

/** `gc` exists when Node runs with --expose-gc (SUPERVISOR_NODE_FLAGS, held-env.ts); made compacting. */
function exposedGc(): Gc | null {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? compacting(gc as Gc) : null;
}

function compacting(gc: Gc): Gc {
  return () => {
    v8.setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      v8.setFlagsFromString('--no-compact-on-every-full-gc');
    }
    mallocTrim();
  };
}

/** Collects once after start-up, at the first look (SETTLE_GC_DELAY_MS apart) that finds the machine calm. */
export function collectAfterStart(gc: Gc | null = exposedGc(), cpu: () => MachineCpu | null = machineCpu): void {
  if (!gc) return;
  let last = cpu();
  let looks = 0;
  const look = (): void => {
    const now = cpu();
    const busy = last !== null && now !== null && busyShare(last, now) > CALM_MACHINE_SHARE;
    last = now;
    if (busy && ++looks < SETTLE_GC_MAX_LOOKS) setTimeout(look, SETTLE_GC_DELAY_MS).unref();
    else gc();
  };
  setTimeout(look, SETTLE_GC_DELAY_MS).unref();
}

/** Collects some seconds after the output calms down after a burst. */
export class CalmCollector {
  /** The output's byte count at the last collection (or the one planned). */
  private collectedAt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly gc: Gc | null = exposedGc()) {}

  /** The output has been quiet for a moment; `bytesIn`: all it has written so far. */
  calm(bytesIn: number): void {
    if (!this.gc || this.timer || bytesIn - this.collectedAt < BURST_BYTES) return;
    this.collectedAt = bytesIn;
    const gc = this.gc;
    this.timer = setTimeout(() => {
      this.timer = null;
      gc();
    }, COLLECT_AFTER_CALM_MS);
    this.timer.unref(); // nothing to keep the process for
  }
}
