import * as fs from 'node:fs';
import * as util from 'node:util';
import type { CopyCalls } from '../sys/native-addon';

// A copy of the standby (native/addon.c, forkDetached), made for each spawn it serves: Node
// started, both bundles loaded and their code compiled already, so a spawn costs a fork
// (~6 ms, 3 of them CPU) instead of a Node start (~100 ms of CPU). A copy is the standby's
// one thread only: Node's worker threads are not there. The supervisor's flags keep V8
// from handing them work (--single-threaded), and the copy must never end through Node's
// teardown, which waits on them for ever (measured: a copy that returned from its last
// callback, called process.exit or threw hung in pthread_cond_destroy of the workers'
// queue). So every way out goes to _exit once the 'exit' listeners have run, as Node would
// run them. The end of the event loop itself is no way out for a copy: before 'exit', Node
// waits for the tasks handed to its worker threads, and a full collection hands some even
// under --single-threaded; the CLI leaves a copy as soon as its command is done
// (src/cli/main.ts). The copy also has its own pid, which Node read once at its start.

/** Node's exit code for an uncaught exception. */
const UNCAUGHT_EXIT_CODE = 1;

/**
 * Forks the standby: the copy's pid in the standby (or a negative errno: then no copy
 * runs); 0 in the copy, which is ready to run on as the process it becomes.
 */
export function forkStandby(calls: CopyCalls): number {
  const pid = calls.forkDetached();
  if (pid === 0) becomeCopy(calls);
  return pid;
}

function becomeCopy({ exitNow, ownPid, restoreStdio }: CopyCalls): void {
  const codeOr = (fallback: number): number => {
    const code = process.exitCode;
    return typeof code === 'number' ? code : typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : fallback;
  };
  const state = process as unknown as { reallyExit(code: number): never; _exiting: boolean };
  // process.exit(): the 'exit' listeners, then reallyExit (when they ran already: only that).
  state.reallyExit = (code: number) => exitNow(code);
  // The end of the event loop: Node emits 'exit' and then tears down. Out, even when a
  // listener throws.
  const emit = process.emit.bind(process) as (event: string | symbol, ...args: unknown[]) => boolean;
  (process as { emit: (event: string | symbol, ...args: unknown[]) => boolean }).emit = (event, ...args) => {
    if (event !== 'exit') return emit(event, ...args);
    // Before a listener tells the front end that the command ended (spawn-front-end.ts): the
    // caller's stdout and stderr as they were handed over, blocking (Node's exit would have).
    restoreStdio();
    try {
      emit(event, ...args);
    } finally {
      exitNow(codeOr(typeof args[0] === 'number' ? args[0] : 0));
    }
    return true;
  };
  // An exception nothing handles: Node would emit 'exit' (once), then print it and tear down.
  process.on('uncaughtException', (err) => {
    if (process.listenerCount('uncaughtException') > 1) return; // a handler of the program's takes it
    try {
      fs.writeSync(2, `${util.inspect(err)}\n`);
    } catch {
      /* no stderr */
    }
    process.exitCode = UNCAUGHT_EXIT_CODE;
    if (!state._exiting) {
      state._exiting = true;
      process.emit('exit', UNCAUGHT_EXIT_CODE); // does not return
    }
    exitNow(UNCAUGHT_EXIT_CODE);
  });
  Object.defineProperty(process, 'pid', { value: ownPid(), writable: false, enumerable: true, configurable: true });
}
