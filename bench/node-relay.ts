import * as fs from 'node:fs';
import * as pty from 'node-pty';

// The floor for any Node process in a keystroke's path: the agent on a node-pty, this
// process's own terminal raw, and bytes copied both ways with the supervisor's fast path
// (a direct write to each descriptor) and nothing else: no mirror, no protocol, no
// bookkeeping. `npm run bench` measures the echo through it beside the supervisor's.
// Usage: node node-relay.js COMMAND [ARGS...]

const [file, ...args] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node-relay COMMAND [ARGS...]\n');
  process.exit(2);
}
process.stdin.setRawMode(true);
const agent = pty.spawn(file, args, {
  cols: process.stdout.columns || 120,
  rows: process.stdout.rows || 40,
  encoding: null,
  handleFlowControl: false,
});
// node-pty queues writes through the thread pool; the supervisor writes keys straight to
// the master descriptor, so the floor does too.
const master = (agent as unknown as { _writeStream: { _fd: number } })._writeStream._fd;
process.stdin.on('data', (d: Buffer) => {
  fs.writeSync(master, d);
});
agent.onData((d: string | Buffer) => {
  fs.writeSync(1, typeof d === 'string' ? Buffer.from(d, 'utf8') : d);
});
agent.onExit(({ exitCode }) => process.exit(exitCode));
