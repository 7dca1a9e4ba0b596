import type { StatusReply } from '../../protocol/ops';
import { LIVE_STATUS_VERSION, type LiveStatus } from '../../store/live-status';
import type { SupervisorConfig } from '../../store/session-dir';
import { procStat } from '../../sys/proc';
import type { Activity } from '../driving/activity';
import type { TaskQueue } from '../driving/queue';
import type { SessionState } from '../driving/session-state';
import type { AgentExit, AgentProcess } from '../lifecycle/agent-process';
import type { Screen } from '../mirror/screen';
import type { Connection } from '../viewers/connection';

// What the supervisor says of itself: the status file that `list` reads (publisher.ts
// writes it) and the `status` request's reply, which tells more.

/** What the status is read from. */
export interface StatusHost {
  readonly config: SupervisorConfig;
  readonly agent: AgentProcess;
  readonly screen: Screen;
  readonly activity: Activity;
  readonly session: SessionState;
  readonly queue: TaskQueue;
  /** Everyone connected. */
  readonly conns: Set<Connection>;
  readonly ended: boolean;
  readonly exitInfo: AgentExit | null;
  /** Input written or accepted for the agent that it has not read yet. */
  readonly inputBacklog: number;
}

export class StatusReport {
  /** This process's start time, as readers of its status file check it ('' unknown: they ask instead). */
  private readonly startTicks = procStat(process.pid)?.startTicks ?? '';

  constructor(private readonly host: StatusHost) {}

  /** What the status file holds: the part of `reply()` that `list` shows. */
  live(): LiveStatus {
    const h = this.host;
    let viewers = 0;
    for (const c of h.conns) if (c.isViewer) viewers++;
    const s = h.session.current;
    return {
      v: LIVE_STATUS_VERSION,
      id: h.config.id,
      createdAtMs: h.config.createdAtMs,
      supervisorPid: process.pid,
      supervisorStarted: this.startTicks,
      agentPid: h.agent.pid,
      cols: h.screen.cols,
      rows: h.screen.rows,
      viewers,
      lastOutputAt: h.activity.lastOutputAt || null,
      activity: h.ended ? null : this.activityWord(),
      state: s.state,
      stateReason: s.reason,
      stateSince: s.since,
      queued: h.queue.queuedCount,
      ended: h.ended,
      exitCode: h.exitInfo?.code ?? null,
      exitSignal: h.exitInfo?.signal ?? null,
    };
  }

  /** The `status` request's reply. */
  reply(): StatusReply {
    const h = this.host;
    const viewers = [...h.conns].filter((c) => c.isViewer);
    return {
      id: h.config.id,
      supervisorPid: process.pid,
      agentPid: h.agent.pid,
      cols: h.screen.cols,
      rows: h.screen.rows,
      sizePolicy: h.config.sizePolicy,
      viewers: viewers.length,
      readOnlyViewers: viewers.filter((c) => c.readOnly).length,
      lastOutputAt: h.activity.lastOutputAt || null,
      idleMs: h.config.idleMs,
      activity: h.ended ? null : this.activityWord(),
      state: h.session.current.state,
      stateReason: h.session.current.reason,
      stateSince: h.session.current.since,
      title: h.screen.title,
      seq: h.screen.seq,
      ended: h.ended,
      exitCode: h.exitInfo?.code ?? null,
      exitSignal: h.exitInfo?.signal ?? null,
      queued: h.queue.queuedCount,
      connections: h.conns.size,
      bufferedBytes: [...h.conns].reduce((n, c) => n + c.bufferedBytes, 0) + h.inputBacklog,
    };
  }

  /** The state as the two words of earlier versions (`activity`). */
  private activityWord(): 'idle' | 'working' {
    const s = this.host.session.current.state;
    return s === 'idle' || s === 'blocked' ? 'idle' : 'working';
  }
}
