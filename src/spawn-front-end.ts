import * as fs from 'node:fs';
import { SUPERVISOR_NODE_FLAGS } from './held-env';
import { loadAddon, processCalls } from './sys/native-addon';

// `agent spawn` through its native front end (native/spawn.c, which bin/symposium-mcp
// starts): the front end starts this CLI under the supervisor's own Node flags and
// allocator settings, with a pipe on the descriptor REPORT_FD_ENV names, and exits with the
// code the CLI says there (`exit N`). When the pty backend is about to start the agent's
// supervisor, this process becomes that supervisor instead of starting a second Node
// (backends/pty/start-supervisor.ts): each Node start was ~40 ms of a spawn and ~50 ms of
// its CPU here. To become it, the process leaves the user's terminal for a session of its
// own, puts its log under fds 1 and 2 and /dev/null under 0 (so that nothing it starts
// holds the user's terminal or pipe), and keeps the user's stdout and stderr on
// descriptors of their own for what the CLI still prints. Once the command is done, the
// front end hears its code and the CLI lets go of them; the supervisor lives on. A CLI
// that did not become one ends as any, and the front end answers with its exit status.
// A standby (src/standby/serve.ts) takes the same place later, from a front end that is
// not its parent (adoptFrontEnd): it says the code however the command ends.

/** The environment variable naming the front end's pipe. */
export const REPORT_FD_ENV = 'SYMPOSIUM_SPAWN_REPORT_FD';

interface FrontEnd {
  /** The pipe to the front end; -1 once told. */
  report: number;
  /** Where the CLI's output goes: fds 1 and 2 until this process becomes a supervisor. */
  out: number;
  err: number;
  /** This process became a supervisor, which runs. */
  supervising: boolean;
  /** It tried: only one supervisor per process. */
  tried: boolean;
  /** A standby took the command (src/standby/serve.ts): the front end is not our parent,
   *  so it hears the code however the command ends (`ended N` when nothing runs on). */
  standby: boolean;
  /** The front end's terminal, as it measured it (a standby's stdout was not it at start). */
  size: { cols: number; rows: number } | null;
}

let frontEnd: FrontEnd | null = null;

/**
 * At the CLI's start: takes the front end's pipe, if it gave one. The variable does not
 * reach what the CLI starts, nor the pipe (closed on exec).
 */
export function takeFrontEnd(env: NodeJS.ProcessEnv = process.env): void {
  const value = env[REPORT_FD_ENV];
  if (value === undefined) return;
  delete env[REPORT_FD_ENV];
  const fd = /^\d{1,4}$/.test(value) ? Number(value) : -1;
  const calls = fd > 2 && loadAddon() ? processCalls() : null;
  const report = calls ? calls.dupCloexec(fd) : -1;
  if (fd > 2) closeQuietly(fd);
  if (report < 0) return; // no addon: the front end hears the exit code as the process ends
  frontEnd = { report, out: 1, err: 2, supervising: false, tried: false, standby: false, size: null };
}

/**
 * A standby takes the front end's command: `report` is the front end's socket, the user's
 * stdout and stderr are on fds 1 and 2 already. The code is said however the process ends
 * (process.exit included); once said, nothing more.
 */
export function adoptFrontEnd(report: number, size: { cols: number; rows: number } | null): void {
  frontEnd = { report, out: 1, err: 2, supervising: false, tried: false, standby: true, size };
  process.on('exit', tellOnExit);
}

function tellOnExit(code: number): void {
  tell(`ended ${code}`);
}

/** This process is a copy of the standby running the front end's command (src/standby/serve.ts). */
export function inStandbyCopy(): boolean {
  return frontEnd?.standby === true;
}

/** The size of the user's terminal when stdout is one (the default size of what a verb starts). */
export function userTerminalSize(): { cols: number | undefined; rows: number | undefined } | null {
  if (frontEnd?.standby) return frontEnd.size;
  return process.stdout.isTTY ? { cols: process.stdout.columns, rows: process.stdout.rows } : null;
}

function tell(line: string): void {
  if (!frontEnd || frontEnd.report < 0) return;
  try {
    fs.writeSync(frontEnd.report, `${line}\n`);
  } catch {
    /* the front end is gone (killed with the user's Ctrl-C): nobody to tell */
  }
  closeQuietly(frontEnd.report);
  frontEnd.report = -1;
  // Nothing of the CLI may stay reachable in a process that supervises on (a listener of
  // the bundle's keeps all of its code: 1.3 MB measured).
  process.off('exit', tellOnExit);
}

/**
 * SIGUSR2 is how a standby's front end passes on the user's Ctrl-C or hang-up (native/
 * spawn.c): by default it ends the process, as those end the CLI in the user's process
 * group, until the process leaves the terminal; from then on it is ignored, as a CLI in a
 * session of its own does not hear them. Function.prototype: a no-op that keeps nothing
 * of the CLI's bundle reachable in a process that supervises on.
 */
const INTERRUPT_FORWARDED = 'SIGUSR2';
const IGNORE = Function.prototype as () => void;

/** Whether this process may become the supervisor it is about to start (once, under the supervisor's flags). */
export function mayBecomeSupervisor(): boolean {
  if (!frontEnd || frontEnd.tried) return false;
  const flags = process.execArgv;
  return flags.length === SUPERVISOR_NODE_FLAGS.length && flags.every((f, i) => f === SUPERVISOR_NODE_FLAGS[i]);
}

/**
 * Leaves the user's terminal (a session of its own; the log under fds 1 and 2, /dev/null
 * under 0; `workdir` as the current directory, as a supervisor started apart has it).
 * False, with nothing changed, when the process cannot.
 */
export function leaveTerminal(logFd: number, workdir: string): boolean {
  const calls = processCalls();
  if (!frontEnd || !calls) return false;
  frontEnd.tried = true;
  if (frontEnd.standby) process.on(INTERRUPT_FORWARDED, IGNORE);
  if (calls.setsid() < 0) return false;
  const out = calls.dupCloexec(1);
  const err = calls.dupCloexec(2);
  let nullFd = -1;
  try {
    nullFd = fs.openSync('/dev/null', 'r');
  } catch {
    /* checked below */
  }
  const moved = out >= 0 && err >= 0 && nullFd >= 0 && calls.dup2(nullFd, 0) === 0 && calls.dup2(logFd, 1) === 0 && calls.dup2(logFd, 2) === 0;
  if (nullFd >= 0) closeQuietly(nullFd);
  if (!moved) {
    // Put back stdout and stderr: the CLI goes on as before (its session is its own now,
    // and stdin may be /dev/null: harmless, spawn reads neither).
    if (out >= 0) calls.dup2(out, 1);
    if (err >= 0) calls.dup2(err, 2);
    for (const fd of [out, err]) if (fd >= 0) closeQuietly(fd);
    return false;
  }
  frontEnd.out = out;
  frontEnd.err = err;
  process.chdir(workdir);
  return true;
}

/** The supervisor this process became runs: the process outlives the command. */
export function nowSupervising(): void {
  if (frontEnd) frontEnd.supervising = true;
}

/** Where the CLI's standard output and error go. */
export function outFd(): number {
  return frontEnd?.out ?? 1;
}
export function errFd(): number {
  return frontEnd?.err ?? 2;
}

/** Whether the process supervises an agent: the CLI's output gone does not end it. */
export function supervisingHere(): boolean {
  return frontEnd?.supervising === true;
}

/**
 * The command is done. A process that became a supervisor tells the front end `exit code`
 * and lets go of the user's descriptors, and returns true: it lives on. Any other ends as
 * a CLI does: the front end takes its exit status once it is gone, or, from a standby,
 * hears `ended code`.
 */
export function finishFrontEnd(code: number): boolean {
  if (frontEnd?.standby && !frontEnd.supervising) tell(`ended ${code}`);
  if (!frontEnd?.supervising) return false;
  // The user's descriptors first, then the word: once the front end exits, nothing of ours
  // holds the caller's output (a `| cat` sees its end at once; 1 failure in a fresh-clone
  // run found both still open in the moment between).
  const held = [frontEnd.out, frontEnd.err];
  // Anything printed from now on (nothing, normally) goes to the log.
  frontEnd.out = 1;
  frontEnd.err = 2;
  for (const fd of held) if (fd > 2) closeQuietly(fd);
  tell(`exit ${code}`);
  return true;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* closed */
  }
}
