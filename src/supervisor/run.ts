import * as fs from 'node:fs';
import { readSupervisorConfig } from '../store/session-dir';
import { resolveCommand } from './lifecycle/resolve-command';
import { collectAfterStart } from './lifecycle/settle-gc';
import { log } from './lifecycle/log';
import { readSerializeAddon } from './mirror/serialize-addon';
import { Supervisor } from './supervisor';

// The supervisor process: it loads only what a running agent needs (no CLI,
// no commander, no tmux code), because its memory counts once per agent. It reads
// everything it will ever need from the install directory at start (its bundle, the
// relay binary, the serialize addon's source): an upgrade may replace that directory
// under a running agent.
//
// Readiness: the spawning CLI passes a pipe as fd 3; we write `started PID` at once, then
// `ready PID` or `error MESSAGE` once, then close it, and live on alone.

const READY_FD = 3;

function say(line: string): void {
  try {
    fs.writeSync(READY_FD, `${line}\n`);
  } catch {
    /* the CLI is gone: nobody to tell */
  }
}

/** The last word on the readiness pipe. */
function report(line: string): void {
  say(line);
  try {
    fs.closeSync(READY_FD);
  } catch {
    /* closed */
  }
}

async function main(): Promise<void> {
  // First thing: what started us (systemd-run, for a scope) did its part.
  say(`started ${process.pid}`);
  const configPath = process.argv[2];
  const config = configPath ? readSupervisorConfig(configPath) : null;
  if (!config) {
    report(`error invalid supervisor config ${configPath ?? '(none)'}`);
    process.exit(2);
  }
  process.title = `symposium-supervisor ${config.id}`;
  readSerializeAddon();
  // Detached in our own session: no terminal can hang us up, but be explicit.
  process.on('SIGHUP', () => {});
  process.on('SIGPIPE', () => {});
  // The log is a file: on a full or read-only disk its writes fail (asynchronously); that
  // must neither crash the supervisor nor, logged as uncaught, fail again in a loop.
  process.stderr.on('error', () => {});
  let sup: Supervisor | null = null;
  process.on('uncaughtException', (err) => {
    // One bad moment must not take the agent down with it.
    log(`uncaught: ${err.stack ?? err.message}`);
  });
  try {
    if (!fs.statSync(config.workdir).isDirectory()) throw new Error(`${config.workdir} is not a directory`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    report(`error working directory ${config.workdir}: ${e.code === 'ENOENT' ? 'does not exist' : e.message}`);
    process.exit(1);
  }
  try {
    resolveCommand(config.command[0]!, config.workdir, process.env.PATH);
    sup = new Supervisor(config);
    await sup.start();
  } catch (err) {
    report(`error ${(err as Error).message}`);
    process.exit(1);
  }
  const s = sup;
  const stop = () => void s.terminate(3000);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  log(`supervising ${config.command.join(' ')} (pid ${s.agent.pid}) on ${config.socketPath}`);
  report(`ready ${s.agent.pid}`);
  collectAfterStart();
}

export function run(): void {
  void main();
}
