import { UserError } from '../../errors';
import type { TaskInfo } from '../../protocol/ops';
import { findSession, requireRunning } from '../../sessions/find';
import { isoOrNull } from '../agent-info';
import type { Context } from '../context';
import type { Task } from '../types';

export function task(t: TaskInfo): Task {
  return {
    index: t.index,
    text: t.text,
    state: t.state,
    queuedAt: new Date(t.queuedAt).toISOString(),
    typedAt: isoOrNull(t.typedAt),
    submittedAt: isoOrNull(t.submittedAt),
    startedAt: isoOrNull(t.startedAt),
    doneAt: isoOrNull(t.doneAt),
    doneState: t.doneState,
    firstLine: t.firstLine,
    endLine: t.endLine,
    deliveredAt: isoOrNull(t.deliveredAt),
    sent: t.sent,
  };
}

/** Queues a task, typed into the agent when it is idle and nobody types (pty backend). */
export async function queueAdd(ctx: Context, rawId: string, text: string): Promise<Task> {
  if (text === '') throw new UserError('The task is empty');
  const rec = await findSession(ctx.backends, rawId);
  requireRunning(rec, 'queue a task');
  return task(await ctx.backends.for(rec).queueAdd(rec, text));
}

export async function queueList(ctx: Context, rawId: string): Promise<Task[]> {
  const rec = await findSession(ctx.backends, rawId);
  return (await ctx.backends.for(rec).queueList(rec)).map(task);
}

/** Drops the tasks not yet delivered; returns how many. */
export async function queueClear(ctx: Context, rawId: string): Promise<number> {
  const rec = await findSession(ctx.backends, rawId);
  return ctx.backends.for(rec).queueClear(rec);
}
