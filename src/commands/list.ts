import type { Observation } from '../backends/backend';
import { syncSessions } from '../store/sync';
import { toIso } from '../store/time';
import { type SessionRecord, backendOf } from '../store/types';

export interface ListFlags {
  json?: boolean;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** What follows the compat line: activity for running agents, the cause for ended ones. */
function detail(rec: SessionRecord, obs: Observation | undefined): string {
  if (rec.status === 'Running' && obs?.activity) {
    const last = obs.lastOutputAt ? `, last output ${ago(Date.now() - obs.lastOutputAt)} ago` : '';
    return `${obs.activity}${last}`;
  }
  if (rec.status === 'Crashed' || rec.status === 'Stopped') return rec.status_reason ?? '';
  return '';
}

export async function listCommand(flags: ListFlags): Promise<void> {
  const { sessions, observations, unavailable } = await syncSessions();
  for (const [name, why] of unavailable) {
    process.stderr.write(`Warning: ${name} sessions could not be checked: ${why}\n`);
  }
  if (flags.json) {
    const out = [...sessions.values()].map((rec) => {
      const obs = observations.get(rec.uuid);
      return {
        id: rec.uuid,
        session_name: rec.tmux_session_name,
        backend: backendOf(rec),
        status: rec.status,
        reason: rec.status_reason ?? null,
        pid: rec.agent_pid ?? null,
        supervisor_pid: rec.supervisor_pid ?? null,
        exit_code: rec.exit_code ?? null,
        exit_signal: rec.exit_signal ?? null,
        cols: obs?.cols ?? null,
        rows: obs?.rows ?? null,
        viewers: obs?.viewers ?? null,
        activity: rec.status === 'Running' ? (obs?.activity ?? null) : null,
        last_output_at: obs?.lastOutputAt ? new Date(obs.lastOutputAt).toISOString() : null,
        command: rec.agent_command,
        workdir: rec.working_directory,
        created_at: toIso(rec.created_at),
        last_attached: rec.last_attached ? toIso(rec.last_attached) : null,
        ended_at: rec.ended_at ? toIso(rec.ended_at) : null,
      };
    });
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  if (sessions.size === 0) {
    process.stdout.write('No active agent sessions\n');
    return;
  }
  const lines = ['Active agent sessions:'];
  for (const rec of sessions.values()) {
    const more = detail(rec, observations.get(rec.uuid));
    lines.push(`  ${rec.uuid} - ${rec.status} (${rec.tmux_session_name})${more ? `  [${more}]` : ''}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
