import type { StatusReply } from '../../protocol/ops';
import type { Observation } from '../backend';

// A supervisor's status, as its `status` reply or its status file (store/live-status.ts)
// gives it, as the session list keeps it.

/** What `list` shows of a status: both the reply and the status file hold it. */
export type ListedStatus = Pick<
  StatusReply,
  'ended' | 'exitCode' | 'exitSignal' | 'supervisorPid' | 'agentPid' | 'cols' | 'rows' | 'viewers' | 'lastOutputAt' | 'activity' | 'state' | 'stateReason' | 'stateSince' | 'queued'
>;

export function observationFromStatus(s: ListedStatus): Observation {
  if (s.ended) return { state: 'ended', exitCode: s.exitCode, exitSignal: s.exitSignal, supervisorPid: s.supervisorPid };
  return {
    state: 'running',
    supervisorPid: s.supervisorPid,
    agentPid: s.agentPid,
    cols: s.cols,
    rows: s.rows,
    viewers: s.viewers,
    lastOutputAt: s.lastOutputAt,
    activity: s.activity,
    agentState: { state: s.state, reason: s.stateReason, since: s.stateSince },
    queued: s.queued,
  };
}
