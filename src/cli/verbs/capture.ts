import { type VerbEntry, options, printJson } from '../verb';
import { nonNegativeInt, positiveInt } from '../parse';

interface Flags {
  since?: number;
  task?: number;
  lines?: number;
  scrollback?: boolean;
  ansi?: boolean;
  json?: boolean;
}

export const captureVerb: VerbEntry = {
  name: 'capture',
  summary: "print what the agent's screen shows",
  args: [{ name: '<id>', description: 'session id' }],
  options: [
    { flags: '--lines <n>', description: 'only the last N lines', parse: positiveInt },
    { flags: '--scrollback', description: 'include the scrollback history' },
    { flags: '--ansi', description: 'keep colours and attributes' },
    { flags: '--since <line>', description: 'only the lines from this line number on (the nextLine of an earlier --json capture)', parse: nonNegativeInt },
    { flags: '--task <n>', description: "only what the agent printed in task N's turn (see queue --list)", parse: positiveInt },
    { flags: '--json', description: 'text, size and cursor position as JSON' },
  ],
  examples: ['symposium-mcp agent capture my-agent-1', 'symposium-mcp agent capture my-agent-1 --scrollback --lines 200'],
  async run(client, [id], raw) {
    const f = options<Flags>(raw);
    const c = await client.capture(id as string, { lines: f.lines, scrollback: f.scrollback, ansi: f.ansi, since: f.since, task: f.task });
    if (f.json) return printJson(c);
    process.stdout.write(c.text.endsWith('\n') || c.text === '' ? c.text : `${c.text}\n`);
  },
};
