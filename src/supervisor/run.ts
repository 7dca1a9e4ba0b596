import * as fs from 'node:fs';
import { readSupervisorConfig } from '../store/session-dir';
import { resolveCommand } from './lifecycle/resolve-command';
import { collectAfterStart } from './lifecycle/settle-gc';
import { takeNativeBinary } from './native/binary';
import { loadAddon } from '../sys/native-addon';
import { keepInspectorClosed } from '../sys/inspector-signal';
import { log } from './lifecycle/log';
import { type EarlyStart, startEarly } from './lifecycle/early-start';

// The supervisor process: it loads only what a running agent needs (no CLI,
// no commander, no tmux code), because its memory counts once per agent. It reads
// everything it will ever need from the install directory at start (its bundle, the
// relay binary, the serialize addon's source): an upgrade may replace that directory
// under a running agent.
//
// Readiness: the spawning CLI passes a pipe as fd 3; we write `started PID` at once, then
// `ready PID` or `error MESSAGE` once, then close it, and live on alone. `ready` comes as
// soon as the socket listens and the agent runs (early-start.ts); the rest of the
// supervisor loads after it, while the CLI writes its record.

/** The rest of the supervisor: loaded once the agent runs (see early-start.ts). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadSupervisor = () => require('./supervisor') as typeof import('./supervisor');
/** The serialize addon's source, read at start like the rest (serialize-addon.ts). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadSerializeAddon = () => require('./mirror/serialize-addon') as typeof import('./mirror/serialize-addon');

/**
 * Where the start is told: `started PID` first thing, then `ready AGENT_PID` or `error
 * MESSAGE` once. A supervisor of its own process tells the CLI that started it through a
 * pipe, fd 3 (readyPipe); one that the spawning CLI's process became tells that CLI in
 * place (runHere). `fail` ends a start that said `error`.
 */
export interface StartReport {
  say(line: string): void;
  /** The last word. */
  last(line: string): void;
  fail(code: number): never;
  /** Between `ready` and loading the rest: what the process owes first (the CLI's answer, when it is that CLI). */
  afterReady?: () => Promise<void>;
}

const READY_FD = 3;

const readyPipe: StartReport = {
  say(line) {
    try {
      fs.writeSync(READY_FD, `${line}\n`);
    } catch {
      /* the CLI is gone: nobody to tell */
    }
  },
  last(line) {
    readyPipe.say(line);
    try {
      fs.closeSync(READY_FD);
    } catch {
      /* closed */
    }
  },
  fail: (code) => process.exit(code),
};

async function main(configPath: string | undefined, start: StartReport): Promise<void> {
  const report = (line: string) => start.last(line);
  // First thing: what started us (systemd-run, for a scope) did its part.
  start.say(`started ${process.pid}`);
  const config = configPath ? readSupervisorConfig(configPath) : null;
  if (!config) {
    report(`error invalid supervisor config ${configPath ?? '(none)'}`);
    return start.fail(2);
  }
  process.title = `symposium-supervisor ${config.id}`;
  // Detached in our own session: no terminal can hang us up, but be explicit.
  process.on('SIGHUP', () => {});
  process.on('SIGPIPE', () => {});
  keepInspectorClosed();
  // The log is a file: on a full or read-only disk its writes fail (asynchronously); that
  // must neither crash the supervisor nor, logged as uncaught, fail again in a loop.
  process.stderr.on('error', () => {});
  process.on('uncaughtException', (err) => {
    // One bad moment must not take the agent down with it.
    log(`uncaught: ${err.stack ?? err.message}`);
  });
  try {
    if (!fs.statSync(config.workdir).isDirectory()) throw new Error(`${config.workdir} is not a directory`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    report(`error working directory ${config.workdir}: ${e.code === 'ENOENT' ? 'does not exist' : e.message}`);
    return start.fail(1);
  }
  let early: EarlyStart;
  try {
    resolveCommand(config.command[0]!, config.workdir, process.env.PATH);
    early = await startEarly(config);
  } catch (err) {
    report(`error ${(err as Error).message}`);
    return start.fail(1);
  }
  // What it needs from the install directory is taken before `ready`: once the CLI has its
  // answer, an upgrade may replace that directory (the package test moves it away).
  let nativeBinary: string | null;
  try {
    nativeBinary = takeNativeBinary(config.sessionDir);
    loadSerializeAddon().readSerializeAddon();
    loadAddon(); // optional: without it, freed memory is kept longer and a helper process tells who connected
  } catch (err) {
    early.agent.signalGroup('SIGKILL');
    fs.rmSync(config.socketPath, { force: true });
    report(`error ${(err as Error).message}`);
    return start.fail(1);
  }
  report(`ready ${early.agent.pid}`);
  if (start.afterReady) await start.afterReady();
  const readyAt = performance.now();
  // Synchronously from here to start(): no output or client can come in between (they are
  // held anyway, early-start.ts).
  try {
    const sup = new (loadSupervisor().Supervisor)(config, nativeBinary, early);
    sup.start();
    const stop = () => void sup.terminate(3000);
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } catch (err) {
    // The CLI was told the agent runs: it ends now, and its end is what `agent list` shows.
    log(`cannot supervise the agent: ${(err as Error).stack ?? (err as Error).message}`);
    early.agent.signalGroup('SIGKILL');
    fs.rmSync(config.socketPath, { force: true });
    process.exit(1);
  }
  // How long a spawn waited for us, and what the rest cost (the CPU counts once per spawn).
  const cpu = process.cpuUsage();
  log(
    `supervising ${config.command.join(' ')} (pid ${early.agent.pid}) on ${config.socketPath}; ready ${Math.round(readyAt)} ms ` +
      `after the process started, the rest loaded ${Math.round(performance.now() - readyAt)} ms later, CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms`,
  );
  collectAfterStart();
}

export function run(): void {
  void main(process.argv[2], readyPipe);
}

/** A start that said `error` in place: the process carries on as the CLI it was. */
class StartRefused extends Error {}

/**
 * Supervises the agent of `configPath` in this very process, which the spawning CLI was
 * (src/spawn-front-end.ts has made it a process of its own session, its log under fds 1
 * and 2); `tell` hears the start's lines. Resolves once the agent runs or the start
 * said `error`.
 */
export function runHere(configPath: string, tell: (line: string) => void): Promise<void> {
  // `tell` is the CLI's: dropped after the last word, or what lives on here (a signal
  // handler's scope holds this report) would hold the whole CLI, 1.7 MB measured.
  let listener: ((line: string) => void) | null = tell;
  return new Promise((resolve, reject) => {
    const start: StartReport = {
      say: (line) => listener?.(line),
      last(line) {
        listener?.(line);
        listener = null;
        resolve();
      },
      fail: () => {
        throw new StartRefused();
      },
      // The CLI's answer first (its record, its output: a few ms), the rest of us after:
      // what arrives meanwhile is held (early-start.ts).
      afterReady: () => new Promise((r) => setImmediate(r)),
    };
    main(configPath, start).then(resolve, (err: unknown) => (err instanceof StartRefused ? resolve() : reject(err)));
  });
}
