import type { AgentInfo } from '../client/types';

// One word for what an agent is doing, for the list. A `state` the library reports (a
// later version reports starting/working/idle/blocked/exited/unknown itself) wins; until
// then it is derived from the status and the activity.

export const AGENT_STATES = ['starting', 'working', 'idle', 'blocked', 'exited', 'unknown'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

function isState(v: unknown): v is AgentState {
  return typeof v === 'string' && (AGENT_STATES as readonly string[]).includes(v);
}

export function agentState(info: AgentInfo): AgentState {
  const own: unknown = (info as AgentInfo & { state?: unknown }).state;
  if (isState(own)) return own;
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
