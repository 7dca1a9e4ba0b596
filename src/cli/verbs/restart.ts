import { UserError } from '../../errors';
import { userTerminalSize } from '../../spawn-front-end';
import { type VerbEntry, options, print, warn } from '../verb';

interface Flags {
  fresh?: boolean;
  all?: boolean;
}

export const restartVerb: VerbEntry = {
  name: 'restart',
  summary: 'start an ended session again (a known agent resumes its conversation)',
  args: [{ name: '[id]', description: 'session id (or --all)' }],
  options: [
    { flags: '--fresh', description: 'run the recorded command as it is, not resuming the conversation' },
    { flags: '--all', description: 'every session a reboot (or a dead supervisor) ended' },
  ],
  examples: ['symposium-mcp agent restart my-agent-1', 'symposium-mcp agent restart --all', 'symposium-mcp agent restart my-agent-1 --fresh'],
  async run(client, [id], raw) {
    const f = options<Flags>(raw);
    const tty = userTerminalSize();
    const size = { cols: tty?.cols, rows: tty?.rows, fresh: f.fresh === true };
    if (f.all) {
      if (id !== undefined) throw new UserError('Give a session id or --all, not both');
      const done = await client.restartAll(size);
      if (done.length === 0) return print('No session was ended by a reboot');
      let failed = 0;
      for (const r of done) {
        if (r.agent) print(`Agent session ${r.id} restarted`);
        else {
          failed++;
          warn(`Error: ${r.error}`);
        }
      }
      return failed > 0 ? 1 : 0;
    }
    if (id === undefined) throw new UserError('Give the session id to restart, or --all');
    await client.restart(id as string, size);
    print(`Agent session ${id as string} restarted`);
    return 0;
  },
};
