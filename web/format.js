// Words and numbers for the page: an agent's state, ages. No DOM here.

const STATES = ['starting', 'working', 'idle', 'blocked', 'exited', 'unknown'];

/** The agent's state: its own `state` when it has one, else from its status and activity. */
export function stateOf(agent) {
  if (STATES.includes(agent.state)) return agent.state;
  if (agent.status === 'Starting') return 'starting';
  if (agent.status === 'Crashed' || agent.status === 'Stopped') return 'exited';
  if (agent.status === 'Running' && (agent.activity === 'working' || agent.activity === 'idle')) return agent.activity;
  return 'unknown';
}

/** 5s, 3m05s, 2h10m. */
export function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** How an agent ended, in a few words. */
export function endedHow(agent) {
  if (agent.exitSignal) return `killed by ${agent.exitSignal}`;
  if (agent.exitCode !== null && agent.exitCode !== undefined) return `exit ${agent.exitCode}`;
  return agent.reason || 'ended';
}

/**
 * The server's clock as seen from here: ages are computed against the time the server
 * stamped on the list, so a phone whose clock is off still shows them right.
 */
export class ServerClock {
  constructor() {
    this.offset = 0;
  }
  sync(serverIso) {
    this.offset = Date.parse(serverIso) - Date.now();
  }
  now() {
    return Date.now() + this.offset;
  }
}
