import type { AgentInfo } from '../client/types';
import { STATE_NAMES, type StateName } from '../protocol/events';

// One word for what an agent is doing, for the list: the state the library reports; for a
// session whose supervisor does not say (an earlier version), from its status and activity.

export const AGENT_STATES = STATE_NAMES;
export type AgentState = StateName;

function isState(v: unknown): v is AgentState {
  return typeof v === 'string' && (AGENT_STATES as readonly string[]).includes(v);
}

export function agentState(info: AgentInfo): AgentState {
  if (isState(info.state)) return info.state;
  switch (info.status) {
    case 'Starting':
      return 'starting';
    case 'Crashed':
    case 'Stopped':
      return 'exited';
    case 'Running':
      return info.activity ?? 'unknown';
    default:
      return 'unknown';
  }
}
