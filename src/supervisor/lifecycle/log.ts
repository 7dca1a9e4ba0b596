/** One line in the supervisor's log (its stderr goes to supervisor.log). */
export function log(msg: string): void {
  process.stderr.write(`${new Date().toISOString()} ${msg}\n`);
}
