import { cmdline, groupMembers, hasEnv, pidAlive, procStat } from '../../sys/proc';

// Which processes are ours, for the cases where a supervisor is gone and only pids remain
// in the record. A recorded pid may have been recycled (after a reboot every pid is
// someone else's), so nothing is signalled on the strength of a pid alone.

/** The supervisor sets its title to `symposium-supervisor ID`. */
export function isSupervisorOf(pid: number | null | undefined, id: string): boolean {
  return pidAlive(pid) && cmdline(pid!) === `symposium-supervisor ${id}`;
}

function isAnySupervisor(pid: number): boolean {
  return cmdline(pid).startsWith('symposium-supervisor ');
}

/** The supervisor gives every agent SYMPOSIUM_AGENT=1 (agent-process.ts). */
function hasAgentMarker(pid: number): boolean {
  return hasEnv(pid, 'SYMPOSIUM_AGENT', '1');
}

/**
 * The live processes of an agent's process group after its supervisor died, or [] when
 * that group is not (or no longer) such an orphan. A member counts only if it carries the
 * agent marker in its environment and started after the session was created; a group
 * still parented by a live supervisor belongs to that supervisor, not to us.
 */
export function orphanedAgentGroup(pgid: number | null | undefined, createdAtMs: number): number[] {
  if (!pgid || pgid <= 1) return [];
  const members = groupMembers(pgid);
  if (members.some((m) => m.ppid > 1 && isAnySupervisor(m.ppid))) return [];
  // Start times are known to 10 ms; the clock may also have been stepped a little.
  const ours = members.filter((m) => m.startedAtMs >= createdAtMs - 2000 && hasAgentMarker(m.pid));
  return ours.map((m) => m.pid);
}

/**
 * The process that started at `startTicks` under `pid` (a status file's writer), as /proc
 * shows it: running; stopped (SIGSTOP, a debugger: it answers nobody until it goes on);
 * or gone (a pid and a start time name one process: no other can be mistaken for it).
 */
export function writerState(pid: number, startTicks: string): 'running' | 'stopped' | 'gone' {
  const st = pid > 0 ? procStat(pid) : null;
  if (st === null || st.startTicks !== startTicks || st.state === 'Z' || st.state === 'X') return 'gone';
  return st.state === 'T' || st.state === 't' ? 'stopped' : 'running';
}
