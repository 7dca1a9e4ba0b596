import { UserError } from '../../errors';
import { findSession } from '../../sessions/find';
import type { Context } from '../context';
import type { Capture, CaptureOptions } from '../types';

/** What the screen shows (after the end: the last screen, kept). */
export async function capture(ctx: Context, rawId: string, opts: CaptureOptions = {}): Promise<Capture> {
  if (opts.lines !== undefined && (!Number.isInteger(opts.lines) || opts.lines < 1)) throw new UserError('lines must be a positive integer');
  if (opts.since !== undefined && (!Number.isInteger(opts.since) || opts.since < 0)) throw new UserError('since must be a line number from an earlier capture (nextLine)');
  const rec = await findSession(ctx.backends, rawId);
  const backend = ctx.backends.for(rec);
  let since = opts.since ?? null;
  let endLine: number | null = null;
  if (opts.task !== undefined) {
    if (since !== null) throw new UserError('Give --task or --since, not both');
    const t = (await backend.queueList(rec)).find((x) => x.index === opts.task);
    if (!t) throw new UserError(`Agent session ${rec.uuid} has no task ${opts.task} (its tasks: \`agent queue ${rec.uuid} --list\`)`);
    if (t.firstLine === null) {
      throw new UserError(t.state === 'queued' || t.state === 'typed' ? `Task ${t.index} has not been submitted yet` : `Task ${t.index}'s turn has no line numbers (a full-screen program, or an earlier version)`);
    }
    since = t.firstLine;
    endLine = t.endLine;
  }
  const res = await backend.capture(rec, {
    lines: opts.lines ?? null,
    scrollback: opts.scrollback === true,
    ansi: opts.ansi === true,
    since,
  });
  if (endLine !== null && res.firstLine !== null && !res.alternate) {
    // Up to the line the turn ended on, not that line: the cursor waits there for the next input.
    const keep = Math.max(1, endLine - res.firstLine);
    res.text = res.text.split('\n').slice(0, keep).join('\n');
  }
  return {
    id: rec.uuid,
    status: rec.status,
    text: res.text,
    cols: res.cols,
    rows: res.rows,
    cursor: res.cursor,
    final: res.final,
    firstLine: res.firstLine,
    nextLine: res.nextLine,
    skipped: res.skipped,
    alternate: res.alternate,
  };
}
