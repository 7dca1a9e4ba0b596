import type { SessionFiles, SupervisorConfig } from '../../store/session-dir';
import type { Screen } from '../mirror/screen';
import type { AgentExit, AgentProcess } from './agent-process';
import { EndSaver } from './end-files';
import { log } from './log';

// The agent's end, from node-pty's exit report: the mirror parses what is left, the end
// goes on the record (the recording's marker, then the exit record), everyone waiting for
// it is told, and the final screen is written once they have been; then the supervisor
// leaves (shutdown.ts).

/** Told of the end: the exit, and its reason as the state gives it. */
export type EndListener = (e: AgentExit, reason: string) => void;

export interface EndHost {
  readonly agent: AgentProcess;
  readonly screen: Screen;
  readonly files: SessionFiles;
  readonly config: SupervisorConfig;
  /** The session on the record: ends with a marker, resolves once that is on the disk. */
  readonly recording: { ended(e: AgentExit): Promise<void> };
  /** Bytes of output the agent wrote (for the log). */
  readonly bytesIn: number;
}

export function endReason(e: AgentExit): string {
  return e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`;
}

export class AgentEnd {
  /** Set once the agent has ended and its output is all parsed (its exit saved, or kept until a disk takes it). */
  ended = false;
  exitInfo: AgentExit | null = null;
  /** Resolves once the recording has its end on the disk (or has failed). */
  recordingClosed: Promise<void> = Promise.resolve();
  private listeners: EndListener[] = [];

  /** @param leave once the end files are saved (or kept: end-files.ts) */
  constructor(
    private readonly host: EndHost,
    private readonly leave: () => void,
  ) {}

  /** `cb` once the agent has ended (at once if it has), after those registered before. */
  onEnded(cb: EndListener): void {
    if (this.ended && this.exitInfo) cb(this.exitInfo, endReason(this.exitInfo));
    else this.listeners.push(cb);
  }

  async exited(e: AgentExit): Promise<void> {
    const { agent, screen } = this.host;
    // node-pty reports the exit once the pty stream has ended (AgentProcess makes sure the
    // kernel had nothing left): all output is here, xterm only has to parse it.
    agent.resume();
    const exitAt = Date.now();
    await screen.flush();
    const flushedAt = Date.now();
    this.exitInfo = e;
    const reason = endReason(e);
    // On the record before the exit record: `logs --follow` ends at this marker with every line.
    this.recordingClosed = this.host.recording.ended(e);
    const saver = new EndSaver(this.host.files, this.host.config);
    saver.exit(e, reason);
    const recordedAt = Date.now();
    this.ended = true;
    for (const l of this.listeners) l(e, reason);
    this.listeners = [];
    // The final screen (megabytes with a full scrollback: a few hundred ms) once everyone
    // has been told, and after the terminals let go; until it is on disk, `capture` asks
    // this supervisor, which listens until then (as long as no disk takes it: end-files.ts).
    setTimeout(() => {
      const screenAt = Date.now();
      saver.finalScreen(screen);
      const gone = agent.goneAt ? `${exitAt - agent.goneAt} ms after the child was seen gone, ` : '';
      log(
        `agent ended (${JSON.stringify(e)}) after ${this.host.bytesIn} bytes of output, ${screen.skippedBytes} fast-forwarded; ` +
          `exit reported ${gone}mirror flushed in ${flushedAt - exitAt} ms, recorded in ${recordedAt - flushedAt} ms, ` +
          `final screen written in ${Date.now() - screenAt} ms`,
      );
      void saver.done().then(() => this.leave());
    }, 0);
  }
}
