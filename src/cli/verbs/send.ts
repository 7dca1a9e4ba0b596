import { type VerbEntry, options, printJson } from '../verb';
import { collect } from '../parse';

export const sendVerb: VerbEntry = {
  name: 'send',
  summary: 'type text and keys into an agent now',
  args: [
    { name: '<id>', description: 'session id' },
    { name: '[text...]', description: 'text to type (pasted whole)' },
  ],
  options: [
    { flags: '--enter', description: 'press Enter after the text' },
    { flags: '--key <key>', description: 'a named key: Enter, Escape, Tab, Up, C-c, M-x… (repeatable)', parse: collect },
    { flags: '--json', description: 'print {"task": …}: text sent with --enter is a task (pty), with receipts as queued ones have' },
  ],
  examples: [
    'symposium-mcp agent send my-agent-1 "Run the tests" --enter',
    'symposium-mcp agent send my-agent-1 --key C-c',
    'n=$(symposium-mcp agent send my-agent-1 "Fix it" --enter --json | jq .task.index); symposium-mcp agent wait my-agent-1 --task "$n"',
  ],
  async run(client, [id, text], raw) {
    const f = options<{ enter?: boolean; key?: string[]; json?: boolean }>(raw);
    const task = await client.send(id as string, { text: (text as string[]).join(' '), keys: f.key ?? [], enter: f.enter === true });
    if (f.json) printJson({ task });
  },
};
