import { type VerbEntry, print } from '../verb';

export const killVerb: VerbEntry = {
  name: 'kill',
  summary: 'end an agent session and remove its record',
  args: [{ name: '<id>', description: 'session id' }],
  options: [],
  examples: ['symposium-mcp agent kill my-agent-1'],
  async run(client, [id]) {
    await client.kill(id as string);
    print(`Agent session ${id as string} killed`);
  },
};
