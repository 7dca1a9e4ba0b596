import { HINT_ENV } from '../../attach-hint';
import { type VerbEntry, options } from '../verb';

interface Flags {
  readOnly?: boolean;
  detachKey?: string;
  print?: boolean;
  redraw?: boolean;
  hint?: boolean;
}

export const attachVerb: VerbEntry = {
  name: 'attach',
  summary: 'attach this terminal to an agent (detach with Ctrl-\\; Ctrl-\\ then r redraws)',
  args: [{ name: '<id>', description: 'session id' }],
  options: [
    { flags: '--read-only', description: 'watch without sending input or changing the size' },
    { flags: '--detach-key <key>', description: 'detach key, e.g. C-\\ (default), C-] or C-b; press twice to send it', default: 'C-\\' },
    { flags: '--redraw', description: 'make the agent redraw after the replay even at the same size (the detach key, then r, does it later)' },
    { flags: '--no-hint', description: `do not show the detach key in the window title for the first seconds (or set ${HINT_ENV}=0)` },
    { flags: '--print', description: 'print the tmux command instead of attaching (tmux backend)' },
  ],
  examples: ['symposium-mcp agent attach my-agent-1', 'symposium-mcp agent attach my-agent-1 --read-only --detach-key C-]'],
  run(client, [id], raw) {
    const f = options<Flags>(raw);
    return client.attachTerminal(id as string, { readOnly: f.readOnly, detachKey: f.detachKey, print: f.print, redraw: f.redraw, hint: f.hint === false ? false : undefined });
  },
};
