import type { StatusReply } from '../../protocol/ops';
import type { Observation } from '../backend';

// A supervisor's `status` reply as the session list keeps it.

export function observationFromStatus(s: StatusReply): Observation {
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
