import { UserError } from '../../errors';
import { findSession } from '../../sessions/find';
import type { Context } from '../context';
import type { Capture, CaptureOptions } from '../types';

/** What the screen shows (after the end: the last screen, kept). */
export async function capture(ctx: Context, rawId: string, opts: CaptureOptions = {}): Promise<Capture> {
  if (opts.lines !== undefined && (!Number.isInteger(opts.lines) || opts.lines < 1)) throw new UserError('lines must be a positive integer');
  if (opts.since !== undefined && (!Number.isInteger(opts.since) || opts.since < 0)) throw new UserError('since must be a line number from an earlier capture (nextLine)');
  const rec = await findSession(ctx.backends, rawId);
  const res = await ctx.backends.for(rec).capture(rec, {
    lines: opts.lines ?? null,
    scrollback: opts.scrollback === true,
    ansi: opts.ansi === true,
    since: opts.since ?? null,
  });
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
