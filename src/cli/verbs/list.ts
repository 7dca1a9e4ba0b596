import type { AgentInfo } from '../../client/types';
import { type VerbEntry, options, print, printJson, warn } from '../verb';

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** What follows the compat line: the state of running agents (docs/agents.md), the cause for ended ones. */
function detail(a: AgentInfo): string {
  if (a.status === 'Running' && a.responding === false) return 'not answering';
  const word = a.state ?? a.activity;
  if (a.status === 'Running' && word && word !== 'unknown') {
    const last = a.lastOutputAt ? `, last output ${ago(Date.now() - Date.parse(a.lastOutputAt))} ago` : '';
    // What it asks is what a user wants to see first.
    const asks = a.state === 'blocked' && a.stateReason ? `: ${a.stateReason.length > 60 ? `${a.stateReason.slice(0, 59)}…` : a.stateReason}` : '';
    return `${word}${asks}${last}`;
  }
  if (a.status === 'Crashed' || a.status === 'Stopped') return a.reason ?? '';
  return '';
}

export const listVerb: VerbEntry = {
  name: 'list',
  summary: 'list agent sessions with their true status',
  args: [],
  options: [{ flags: '--json', description: 'machine-readable output with backend, pid, size, viewers, activity' }],
  examples: ['symposium-mcp agent list', 'symposium-mcp agent list --json'],
  async run(client, _args, raw) {
    const f = options<{ json?: boolean }>(raw);
    const agents = await client.list({ onWarning: (m) => warn(`Warning: ${m}`) });
    if (f.json) return printJson(agents);
    if (agents.length === 0) return print('No active agent sessions');
    const lines = ['Active agent sessions:'];
    for (const a of agents) {
      const more = detail(a);
      lines.push(`  ${a.id} - ${a.status} (${a.sessionName})${more ? `  [${more}]` : ''}`);
    }
    print(lines.join('\n'));
  },
};
