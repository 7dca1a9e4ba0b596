import { UserError } from '../../errors';
import type { BackendName } from '../../store/types';
import { type VerbEntry, options, print } from '../verb';
import { positiveInt, seconds } from '../parse';

interface Flags {
  uuid: string;
  workdir: string;
  backend?: string;
  cols?: number;
  rows?: number;
  size?: string;
  idle?: number;
}

export const spawnVerb: VerbEntry = {
  name: 'spawn',
  summary: 'start an agent in a persistent background session',
  args: [{ name: '<command...>', description: 'the agent command and its arguments' }],
  options: [
    { flags: '--uuid <id>', description: 'session id: 1-64 letters, digits, - or _', required: true },
    { flags: '--workdir <dir>', description: 'working directory of the agent', required: true },
    { flags: '--backend <name>', description: 'pty (default) or tmux; default from SYMPOSIUM_AGENT_BACKEND' },
    { flags: '--cols <n>', description: 'initial width (default: this terminal, else 120)', parse: positiveInt },
    { flags: '--rows <n>', description: 'initial height (default: this terminal, else 40)', parse: positiveInt },
    { flags: '--size <policy>', description: 'window size policy with several viewers: latest or smallest', default: 'latest' },
    { flags: '--idle <seconds>', description: 'quiet time after which the agent counts as idle (default 2)', parse: seconds },
  ],
  passThrough: true,
  examples: [
    'symposium-mcp agent spawn --uuid my-agent-1 --workdir ~/project q chat --resume',
    'symposium-mcp agent spawn --uuid fix-42 --workdir . --backend tmux -- claude --continue',
  ],
  async run(client, [command], raw) {
    const f = options<Flags>(raw);
    const tty = process.stdout.isTTY ? process.stdout : null;
    const size = f.size ?? 'latest';
    if (size !== 'latest' && size !== 'smallest') throw new UserError(`Unknown size policy ${JSON.stringify(size)}: use latest or smallest`);
    await client.spawn({
      id: f.uuid,
      workdir: f.workdir,
      command: command as string[],
      backend: f.backend as BackendName | undefined,
      cols: f.cols ?? tty?.columns,
      rows: f.rows ?? tty?.rows,
      sizePolicy: size,
      idleMs: f.idle !== undefined ? Math.round(f.idle * 1000) : undefined,
    });
    print('Agent session spawned successfully');
  },
};
