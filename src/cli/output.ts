import * as fs from 'node:fs';
import { errFd, outFd, supervisingHere } from '../spawn-front-end';

// What the verbs print, written straight to file descriptor 1. Node makes process.stdout
// on first use, and for a pipe (how scripts, MCP clients and the benchmark read us) that
// loads node:net and the stream modules: ~10 ms of `--version` in a CPU profile (load
// ~4), which `agent list` no longer pays (docs/benchmarks.md). process.stdout stays for
// what streams its output (logs --follow, attach, the MCP server); on Linux it writes
// files, pipes and terminals synchronously too, so the two never reorder.

/** `agent capture ID | head`: the reader is gone; stop at once and quietly, as a program killed by SIGPIPE would. */
const EXIT_PIPE_CLOSED = 141;

function pipeClosed(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'EPIPE';
}

/** Writes all of `text` to standard output before it returns. */
export function writeOut(text: string): void {
  writeAll(outFd(), 1, text);
}

/** Writes all of `text` to standard error (warnings, errors). */
export function writeErr(text: string): void {
  writeAll(errFd(), 2, text);
}

/**
 * The user's stdout or stderr is `fd`: 1 or 2, or another descriptor when this process
 * became an agent's supervisor (spawn-front-end.ts), whose reader gone must not end it.
 */
function writeAll(fd: number, std: 1 | 2, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if (pipeClosed(err)) {
        if (supervisingHere()) return;
        process.exit(EXIT_PIPE_CLOSED);
      }
      // A descriptor left non-blocking by whoever started us (EAGAIN): the stream waits
      // for the reader as it always did.
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN' && fd === std) {
        (std === 1 ? process.stdout : process.stderr).write(buf.subarray(off));
        return;
      }
      if (fd !== std) return; // the user's descriptor, away from a supervisor's log: given up
      throw err;
    }
  }
}

/**
 * process.stdout, once something makes it, exits quietly when its reader is gone (Node
 * ignores SIGPIPE and would print a stack instead). Attached when the stream is made, not
 * before: making it is what writeOut spares. Returns what takes it away (for a process
 * that outlives the CLI, spawn-front-end.ts: nothing of the CLI may stay reachable).
 */
export function exitQuietlyOnClosedStdout(): () => void {
  const made = Object.getOwnPropertyDescriptor(process, 'stdout');
  const onError = (err: unknown): void => {
    if (pipeClosed(err)) process.exit(EXIT_PIPE_CLOSED);
    throw err;
  };
  if (!made?.get || !made.configurable) {
    process.stdout.on('error', onError);
    return () => process.stdout.off('error', onError);
  }
  const make = made.get;
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: made.enumerable,
    get(): NodeJS.WriteStream {
      const stream = make.call(process) as NodeJS.WriteStream;
      Object.defineProperty(process, 'stdout', made); // Node's own getter again: it keeps the stream
      stream.on('error', onError);
      return stream;
    },
  });
  return () => {
    const now = Object.getOwnPropertyDescriptor(process, 'stdout');
    if (now?.get !== made.get) Object.defineProperty(process, 'stdout', made);
    else process.stdout.off('error', onError);
  };
}
