import { type VerbEntry, options } from '../verb';
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
  ],
  examples: ['symposium-mcp agent send my-agent-1 "Run the tests" --enter', 'symposium-mcp agent send my-agent-1 --key C-c'],
  async run(client, [id, text], raw) {
    const f = options<{ enter?: boolean; key?: string[] }>(raw);
    await client.send(id as string, { text: (text as string[]).join(' '), keys: f.key ?? [], enter: f.enter === true });
  },
};
