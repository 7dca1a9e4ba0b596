import { type VerbEntry, print } from '../verb';

export const restartVerb: VerbEntry = {
  name: 'restart',
  summary: 'start an ended session again with its recorded command',
  args: [{ name: '<id>', description: 'session id' }],
  options: [],
  examples: ['symposium-mcp agent restart my-agent-1'],
  async run(client, [id]) {
    const tty = process.stdout.isTTY ? process.stdout : null;
    await client.restart(id as string, { cols: tty?.columns, rows: tty?.rows });
    print(`Agent session ${id as string} restarted`);
  },
};
