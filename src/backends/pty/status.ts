import type { Observation } from '../backend';

// Reading a supervisor's `status` response (protocol.md, Requests) into what the CLI
// keeps of it. Fields of a wrong type read as unknown, never as a crash.

export const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
export const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function observationFromStatus(s: Record<string, unknown>): Observation {
  if (s.ended === true) {
    return { state: 'ended', exitCode: num(s.exitCode), exitSignal: strOrNull(s.exitSignal), supervisorPid: num(s.supervisorPid) };
  }
  return {
    state: 'running',
    supervisorPid: num(s.supervisorPid),
    agentPid: num(s.agentPid),
    cols: num(s.cols) ?? undefined,
    rows: num(s.rows) ?? undefined,
    viewers: num(s.viewers) ?? undefined,
    lastOutputAt: num(s.lastOutputAt),
    activity: s.activity === 'idle' || s.activity === 'working' ? s.activity : null,
  };
}
