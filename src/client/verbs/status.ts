import { findSession } from '../../sessions/find';
import { agentInfo, isoOrNull } from '../agent-info';
import type { Context } from '../context';
import type { AgentStatus } from '../types';

/** One session: its record and what its backend says right now. */
export async function status(ctx: Context, rawId: string): Promise<AgentStatus> {
  const rec = await findSession(ctx.backends, rawId);
  const s = await ctx.backends.for(rec).status(rec);
  const info = agentInfo(rec, undefined);
  return {
    ...info,
    pid: s.agentPid ?? info.pid,
    supervisorPid: s.supervisorPid ?? info.supervisorPid,
    exitCode: s.exitCode ?? info.exitCode,
    exitSignal: s.exitSignal ?? info.exitSignal,
    cols: s.cols,
    rows: s.rows,
    viewers: s.viewers,
    activity: s.activity,
    state: s.agentState?.state ?? info.state,
    stateReason: s.agentState?.reason ?? info.stateReason,
    stateSince: isoOrNull(s.agentState?.since ?? null) ?? info.stateSince,
    lastOutputAt: isoOrNull(s.lastOutputAt),
    queued: s.queued,
    responding: s.running ? true : null,
    idleMs: s.idleMs,
    title: s.title,
  };
}
