import type { AgentEvent } from '../../client/types';
import { describeEvent } from '../../client/event-text';
import { type VerbEntry, options, print } from '../verb';

interface Flags {
  follow?: boolean;
  json?: boolean;
}

/** One event as a line: `14:03:05 tests  state idle (quiet for 2 s)`. */
function line(e: AgentEvent): string {
  const t = new Date(e.event.at).toTimeString().slice(0, 8);
  return `${t} ${e.id}  ${describeEvent(e.event)}`;
}

export const eventsVerb: VerbEntry = {
  name: 'events',
  summary: 'what happened in sessions: states, task receipts, viewers, notifications, exits',
  args: [{ name: '[ids...]', description: 'session ids (default: every pty session)' }],
  options: [
    { flags: '-f, --follow', description: 'go on printing events as they come (and, without ids, from new sessions) until interrupted' },
    { flags: '--json', description: 'one JSON object per line: {"id", "seq", "at", "type", …}' },
  ],
  examples: [
    'symposium-mcp agent events my-agent-1',
    'symposium-mcp agent events --follow --json | jq -c \'select(.type == "state")\'',
  ],
  async run(client, [ids], raw) {
    const f = options<Flags>(raw);
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // A reader that went away (`| head`) ends us quietly.
    process.stdout.on('error', stop);
    try {
      for await (const e of client.events(ids as string[], { follow: f.follow === true, signal: ac.signal })) {
        if (e.lostBefore > 0 && !f.json) print(`(${e.lostBefore} earlier events of ${e.id} were no longer kept)`);
        print(f.json ? JSON.stringify({ id: e.id, ...e.event, at: new Date(e.event.at).toISOString(), ...(e.lostBefore > 0 ? { lostBefore: e.lostBefore } : {}) }) : line(e));
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  },
};
