import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { z } from 'zod';
import type { AgentInfo } from '../../client/types';
import { agentSchema, agentShape, statusShape } from '../schemas';
import { tool } from '../tool';

// The session tools: list and status (read), spawn, kill and restart (spawn tier).

/** One line per agent, as `agent list` prints it. */
export function agentLine(a: AgentInfo): string {
  const more = a.status === 'Running' ? (a.state === 'blocked' && a.stateReason ? `blocked: ${a.stateReason}` : (a.state ?? a.activity ?? '')) : (a.reason ?? '');
  return `${a.id} - ${a.status}${more ? ` [${more}]` : ''} (${a.command.join(' ')} in ${a.workdir})`;
}

/** An id for an agent spawned without one: the program's name and 4 hex digits. */
function generatedId(command: string[]): string {
  const base = path.basename(command[0] ?? 'agent').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40) || 'agent';
  return `${base}-${crypto.randomBytes(2).toString('hex')}`;
}

const id = z.string().describe('the agent session id');

export const listTool = tool({
  name: 'list',
  title: 'List agents',
  description: 'Every agent session with its status (Running, Crashed, Stopped…), state (starting, working, idle, blocked: it asks the user something, exited) with its reason, command and working directory.',
  tier: 'read',
  input: {},
  output: { agents: z.array(agentSchema) },
  annotations: { readOnlyHint: true },
  async run(ctx) {
    const agents = await ctx.client.list();
    return { structured: { agents }, text: agents.length === 0 ? 'No agent sessions.' : agents.map(agentLine).join('\n') };
  },
});

export const statusTool = tool({
  name: 'status',
  title: 'Agent status',
  description: 'One agent session: its status, state (working, idle, blocked…) with its reason, size, viewers, queued tasks, exit code when it has ended.',
  tier: 'read',
  input: { id },
  output: statusShape,
  annotations: { readOnlyHint: true },
  async run(ctx, args) {
    const s = await ctx.client.status(args.id);
    return { structured: s, text: `${agentLine(s)}${s.queued ? `; ${s.queued} task(s) queued` : ''}${s.exitCode !== null ? `; exit code ${s.exitCode}` : ''}` };
  },
});

export const spawnTool = tool({
  name: 'spawn',
  title: 'Spawn an agent',
  description:
    'Starts a program (an AI coding agent such as `claude`, `codex`, `gemini`, or any command) in a new persistent background session and returns once it runs. Hand it work with `queue` or `send`, then `wait` and `capture`.',
  tier: 'spawn',
  input: {
    command: z.array(z.string()).min(1).describe('the program and its arguments, e.g. ["claude"] or ["codex", "--full-auto"]'),
    workdir: z.string().optional().describe("working directory (default: this server's)"),
    id: z.string().optional().describe('1-64 letters, digits, - or _ (default: generated)'),
    cols: z.number().int().min(1).max(1000).optional(),
    rows: z.number().int().min(1).max(1000).optional(),
    idleSeconds: z.number().min(0).max(86_400).optional().describe('quiet time after which the agent counts as idle (default 2)'),
    hooks: z.boolean().optional().describe("wire a known agent's own hooks (Claude Code, Codex, aider) so that idle and blocked are its word (default: the user's config)"),
  },
  output: agentShape,
  annotations: { destructiveHint: false, openWorldHint: true },
  async run(ctx, args) {
    const a = await ctx.client.spawn({
      id: args.id ?? generatedId(args.command),
      workdir: args.workdir ?? ctx.cwd,
      command: args.command,
      cols: args.cols,
      rows: args.rows,
      idleMs: args.idleSeconds !== undefined ? Math.round(args.idleSeconds * 1000) : undefined,
      hooks: args.hooks,
    });
    return { structured: a, text: `Spawned ${agentLine(a)}` };
  },
});

export const killTool = tool({
  name: 'kill',
  title: 'Kill an agent',
  description: 'Ends an agent session (its program and everything it started) and removes its record.',
  tier: 'spawn',
  input: { id },
  output: { id: z.string(), killed: z.boolean() },
  annotations: { destructiveHint: true, idempotentHint: false },
  async run(ctx, args) {
    await ctx.client.kill(args.id);
    return { structured: { id: args.id, killed: true }, text: `Agent session ${args.id} killed` };
  },
});

export const restartTool = tool({
  name: 'restart',
  title: 'Restart an agent',
  description:
    'Starts an ended session again in its working directory: a known agent (claude, codex, gemini, q, aider) resumes its last conversation, any other program runs its recorded command; `fresh` runs the recorded command as it is.',
  tier: 'spawn',
  input: { id, fresh: z.boolean().optional().describe('start anew instead of resuming the conversation') },
  output: agentShape,
  annotations: { destructiveHint: false },
  async run(ctx, args) {
    const a = await ctx.client.restart(args.id, { fresh: args.fresh });
    return { structured: a, text: `Restarted ${agentLine(a)}` };
  },
});
