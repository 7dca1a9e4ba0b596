import { UserError } from '../../errors';
import type { Task } from '../../client/types';
import { type VerbEntry, options, print, printJson } from '../verb';

interface Flags {
  list?: boolean;
  clear?: boolean;
  json?: boolean;
}

export const queueVerb: VerbEntry = {
  name: 'queue',
  summary: 'queue a task, delivered when the agent is idle',
  args: [
    { name: '<id>', description: 'session id' },
    { name: '[text...]', description: 'the task' },
  ],
  options: [
    { flags: '--list', description: 'show the queue with each task state' },
    { flags: '--clear', description: 'drop tasks not yet delivered' },
    { flags: '--json', description: 'with --list: machine-readable output' },
  ],
  examples: ['symposium-mcp agent queue my-agent-1 "Implement authentication system"', 'symposium-mcp agent queue my-agent-1 --list'],
  async run(client, [rawId, rawText], raw) {
    const f = options<Flags>(raw);
    const id = rawId as string;
    const text = rawText as string[];
    const modes = [text.length > 0, f.list === true, f.clear === true].filter(Boolean).length;
    if (modes !== 1) throw new UserError('Give a task TEXT, or --list, or --clear (one of them)');
    if (f.list) {
      const tasks = await client.tasks(id);
      if (f.json) return printJson(tasks);
      if (tasks.length === 0) return print(`No tasks queued for agent session ${id}`);
      const lines = tasks.map((t) => {
        const when = `${receipt(t)}${t.sent ? ', sent' : ''}`;
        const oneLine = t.text.replace(/\s+/g, ' ');
        const shown = oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
        return `  ${t.index}. [${when}] ${shown}`;
      });
      return print(`Tasks for agent session ${id}:\n${lines.join('\n')}`);
    }
    if (f.clear) {
      const n = await client.clearQueue(id);
      return print(`Cleared ${n} queued task${n === 1 ? '' : 's'} for agent session ${id}`);
    }
    const task = await client.queue(id, text.join(' '));
    print(`Task ${task.index} queued for agent session ${id}`);
  },
};

/** Where a task's turn is: `queued`, `typed 14:03:01`, `started 14:03:02`, `done 14:03:14 (idle, 12.8 s)`. */
function receipt(t: Task): string {
  const clock = (iso: string | null) => (iso ? new Date(iso).toTimeString().slice(0, 8) : '?');
  switch (t.state) {
    case 'queued':
      return 'queued';
    case 'typed':
      return `typed ${clock(t.typedAt)}`;
    case 'submitted':
      return `submitted ${clock(t.submittedAt)}`;
    case 'started':
      return `started ${clock(t.startedAt)}`;
    case 'done': {
      const took = t.submittedAt && t.doneAt ? `, ${((Date.parse(t.doneAt) - Date.parse(t.submittedAt)) / 1000).toFixed(1)} s` : '';
      return `done ${clock(t.doneAt)} (${t.doneState ?? 'ended'}${took})`;
    }
  }
}
