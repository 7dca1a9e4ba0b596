import { type VerbEntry, print } from '../verb';

export const killVerb: VerbEntry = {
  name: 'kill',
  summary: 'end an agent session and remove its record',
  args: [{ name: '<id>', description: 'session id' }],
  options: [],
  examples: ['symposium-mcp agent kill my-agent-1'],
  async run(client, [id]) {
    const { leftRunning } = await client.kill(id as string);
    print(`Agent session ${id as string} killed`);
    if (leftRunning.length > 0) {
      const who = leftRunning.map((p) => `${p.pid} (${p.command.length > 60 ? `${p.command.slice(0, 57)}...` : p.command})`).join(', ');
      print(`Left running, daemonised away from the agent (as under tmux): ${who}`);
    }
  },
};
