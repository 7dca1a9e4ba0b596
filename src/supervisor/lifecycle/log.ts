import * as fs from 'node:fs';

/**
 * One line in the supervisor's log (its stderr, fd 2, goes to supervisor.log). Written
 * straight to the descriptor: on a full or read-only disk a line is lost and the next one
 * may go through, where a stream would stay broken after its first error.
 */
export function log(msg: string): void {
  try {
    fs.writeSync(2, `${new Date().toISOString()} ${msg}\n`);
  } catch {
    /* a full or read-only disk: the log is what gives way */
  }
}
