import type { SessionFiles } from '../../store/session-dir';
import type { SupervisorConfig } from '../../store/session-dir';
import { writeJsonAtomic } from '../../sys/atomic-write';
import type { AgentExit } from './agent-process';
import { log } from './log';
import type { Screen } from '../mirror/screen';

// What an agent leaves on disk when it ends: the exit (durably, at once) and the final
// screen (for `capture` after the end, written once everyone has been told).

type Files = SessionFiles;

/** The exit, durably: exit.json and the session's record. */
export function recordEnd(files: Files, config: SupervisorConfig, e: AgentExit, reason: string): void {
  try {
    writeJsonAtomic(files.exit, { code: e.code, signal: e.signal, endedAt: Date.now(), reason });
  } catch (err) {
    log(`cannot write the exit record: ${(err as Error).message}`);
  }
  try {
    // The record in agent-sessions.json, so it is right even if no CLI runs for a while.
    // Loaded only now: the store code is not needed while the agent runs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./record-exit') as typeof import('./record-exit')).recordExit(config, e, reason);
  } catch (err) {
    log(`cannot update the session record: ${(err as Error).message}`);
  }
}

/** Every line of the screen, plain and with colours, with its size and cursor. */
export function writeFinalScreen(files: Files, screen: Screen): void {
  try {
    const final = screen.finalScreen();
    // Not fsynced: megabytes, and only for `capture` after the end (the exit is durable).
    writeJsonAtomic(files.screen, final, false);
  } catch (err) {
    log(`cannot write the final screen: ${(err as Error).message}`);
  }
}
