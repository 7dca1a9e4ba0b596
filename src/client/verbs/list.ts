import { syncSessions } from '../../sessions/sync';
import { agentInfo } from '../agent-info';
import type { Context } from '../context';
import type { AgentInfo } from '../types';

export interface ListOptions {
  /** Ask running sessions for size, viewers and activity (default true). */
  detail?: boolean;
  /** A backend that could not be asked (tmux missing): its sessions show their recorded state. */
  onWarning?: (message: string) => void;
}

/** Every session, checked against reality first. */
export async function list(ctx: Context, opts: ListOptions = {}): Promise<AgentInfo[]> {
  const { sessions, observations, unavailable, notSaved } = await syncSessions(ctx.backends, { detail: opts.detail !== false });
  for (const [name, why] of unavailable) opts.onWarning?.(`${name} sessions could not be checked: ${why}`);
  if (notSaved) opts.onWarning?.(`what changed is shown but not saved: ${notSaved}`);
  return [...sessions.values()].map((rec) => agentInfo(rec, observations.get(rec.uuid)));
}
