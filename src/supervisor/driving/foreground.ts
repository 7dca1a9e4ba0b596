import { procStat } from '../../sys/proc';

// The job in the agent's terminal's foreground, when it is not the agent itself: a shell
// running `sleep 5` or `npm test` is working, silent or not. The kernel says it: the
// terminal's foreground process group (tpgid, in the agent's /proc stat) against the
// agent's own group (the agent leads its session and its group). Read at most every
// FOREGROUND_LOOK_MS, so a flood that asks on every chunk costs two small reads a tenth of
// a second.

/** How long a look at /proc is trusted (two reads of ~20 µs each). */
export const FOREGROUND_LOOK_MS = 100;

export class ForegroundJob {
  private at = -Infinity;
  private job: string | null = null;

  constructor(
    private readonly agentPid: () => number | null,
    private readonly now: () => number = Date.now,
  ) {}

  /** The foreground job's command name, or null when the agent itself (or nothing) is in the foreground. */
  current(): string | null {
    const now = this.now();
    if (now - this.at < FOREGROUND_LOOK_MS) return this.job;
    this.at = now;
    this.job = this.look();
    return this.job;
  }

  private look(): string | null {
    const pid = this.agentPid();
    if (!pid) return null;
    const agent = procStat(pid);
    if (!agent || agent.tpgid <= 0 || agent.tpgid === agent.pgid) return null;
    // The group's leader names the job; a leader that exited leaves its group's name unknown.
    return procStat(agent.tpgid)?.comm ?? 'a job';
  }
}
