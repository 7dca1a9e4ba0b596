import { type NodeGCPerformanceDetail, type PerformanceEntry, PerformanceObserver, constants } from 'node:perf_hooks';
import type { Rehearsal } from '../supervisor/entry';

// The standby's rehearsal (supervisor/entry.ts) kept in effect while the standby waits. V8
// throws optimized code away at a full collection when an object it was made for has died
// ("weak objects"): the rehearsal's mirror, the cells and line views a serialization makes
// and drops. A collection in the standby, then, left its copies the serializer's code to
// optimize again at their first attach, on their main thread (--single-threaded): the
// copy's first serialization of a screen took 18-27 ms against 0.3-0.6 later, and a cold
// attach's first line of history came at 38-50 ms against 17-22 (by hand, five each).
// V8's memory reducer makes such collections in an idle process (two, ~6 s after start).
// So: no full collection after the rehearsal (a scavenge, which leaves code alone: ~1.3
// MB of the rehearsal's garbage stays in the old space until the copy's first collection),
// the rehearsal's mirror kept, and after any full collection its snapshots made again.

/** After a full collection, the snapshots are made again this much later: V8's memory reducer makes its collections a few hundred ms apart. */
const AGAIN_AFTER_MS = 1000;

export interface KeptRehearsal {
  /** In a copy: the mirror and the watch go (the copy's own mirror takes over). */
  release(): void;
}

export function keepRehearsal(rehearsal: Rehearsal): KeptRehearsal {
  let timer: NodeJS.Timeout | null = null;
  /** The snapshots being made again, if they are. */
  let making: Promise<void> | null = null;
  let released = false;
  const again = (): void => {
    timer = null;
    making = rehearsal
      .again()
      .catch((err: Error) => {
        // Released meanwhile, this is a copy: its stderr is its caller's, nothing to say there.
        if (!released) process.stderr.write(`standby: the rehearsal's snapshots failed: ${err.stack ?? err.message}\n`);
      })
      .finally(() => {
        making = null;
      });
  };
  const watch = new PerformanceObserver((list) => {
    const full = list.getEntries().some((e) => (e as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (full && !timer) {
      timer = setTimeout(again, AGAIN_AFTER_MS);
      timer.unref();
    }
  });
  watch.observe({ entryTypes: ['gc'] });
  return {
    release(): void {
      released = true;
      watch.disconnect();
      if (timer) clearTimeout(timer);
      timer = null;
      // Forked while the snapshots were being made: the mirror goes once they are done, not under them.
      if (making) void making.then(() => rehearsal.drop());
      else rehearsal.drop();
    },
  };
}
