import { z } from 'zod';
import { taskSchema } from '../schemas';
import { tool } from '../tool';

// Typing into agents: send (now) and queue (when idle). The drive tier.

export const sendTool = tool({
  name: 'send',
  title: 'Type into an agent',
  description:
    "Types into the agent now: the text (pasted whole), then each named key (Enter, Escape, Tab, Up, C-c, S-Enter…), then Enter if asked, as separate writes. To hand an agent a task, prefer `queue`, which waits until it is idle.",
  tier: 'drive',
  input: {
    id: z.string(),
    text: z.string().optional(),
    keys: z.array(z.string()).optional().describe('named keys, typed after the text'),
    enter: z.boolean().optional().describe('press Enter at the end'),
  },
  output: { id: z.string(), sent: z.boolean(), task: taskSchema.nullable().describe('text sent with enter is a task: wait until "task" with its index') },
  annotations: { destructiveHint: false, idempotentHint: false },
  async run(ctx, args) {
    const task = await ctx.client.send(args.id, { text: args.text, keys: args.keys, enter: args.enter });
    return { structured: { id: args.id, sent: true, task }, text: task ? `Sent to ${args.id} as task ${task.index}` : `Sent to ${args.id}` };
  },
});

export const queueTool = tool({
  name: 'queue',
  title: 'Queue a task',
  description:
    'Queues a task for the agent: it is typed in (pasted, then Enter) once the agent is idle and nobody is typing, one task at a time. Returns the task with its index; `wait` for the agent, then `capture` what it did.',
  tier: 'drive',
  input: { id: z.string(), text: z.string().min(1) },
  output: { id: z.string(), task: taskSchema },
  annotations: { destructiveHint: false, idempotentHint: false },
  async run(ctx, args) {
    const task = await ctx.client.queue(args.id, args.text);
    return { structured: { id: args.id, task }, text: `Task ${task.index} queued for ${args.id}` };
  },
});
