import * as fs from 'node:fs';
import { utcIso } from '../../utc-iso';

/**
 * One line in the supervisor's log (its stderr, fd 2, goes to supervisor.log). Written
 * straight to the descriptor: on a full or read-only disk a line is lost and the next one
 * may go through, where a stream would stay broken after its first error. The time is
 * formatted without a Date (utc-iso.ts: ICU pages).
 */
export function log(msg: string): void {
  try {
    fs.writeSync(2, `${utcIso(Date.now())} ${msg}\n`);
  } catch {
    /* a full or read-only disk: the log is what gives way */
  }
}
