import { hintText, hintWanted } from '../../attach-hint';
import type { AttachStream } from '../../backends/backend';
import { UserError } from '../../errors';
import { findSession, requireRunning } from '../../sessions/find';
import { updateSessions } from '../../store/file';
import { now } from '../../store/time';
import type { Context } from '../context';
import type { AttachOptions, TerminalAttachOptions } from '../types';

/** Parses `C-\`, `^\`, `ctrl-a`… into the control byte it stands for. */
export function parseDetachKey(spec: string): number {
  const m = /^(?:C-|\^|ctrl-|ctrl\+)(.)$/i.exec(spec.trim());
  if (m) {
    const ch = m[1]!.toUpperCase().charCodeAt(0);
    if (ch >= 0x40 && ch <= 0x5f) return ch - 0x40;
    if (m[1] === '?') return 0x7f;
  }
  throw new UserError(`Invalid detach key ${JSON.stringify(spec)}: use a control key such as C-\\, C-b or C-]`);
}

/**
 * Not fsynced (~7 ms here, with the sessions' lock held, while the first picture is being
 * drawn): a power cut that loses when a session was last looked at loses nothing else,
 * and the next attach records it again.
 */
function recordAttached(ctx: Context, id: string): void {
  updateSessions(
    ctx.sessionsFile,
    (map) => {
      const r = map.get(id);
      if (r) r.last_attached = now();
    },
    { durable: false },
  );
}

/** A live view of the agent as a stream object, for a terminal of the caller's own. */
export async function attach(ctx: Context, rawId: string, opts: AttachOptions): Promise<AttachStream> {
  const rec = await findSession(ctx.backends, rawId);
  requireRunning(rec, 'attach');
  const onAttached = () => {
    try {
      recordAttached(ctx, rec.uuid);
    } catch {
      /* the record is best effort: the attach goes on */
    }
  };
  return ctx.backends.for(rec).attach(rec, { cols: opts.cols, rows: opts.rows, readOnly: opts.readOnly === true, onAttached });
}

/** Attaches this process's own terminal (the CLI's `agent attach`); returns its exit code. */
export async function attachTerminal(ctx: Context, rawId: string, opts: TerminalAttachOptions = {}): Promise<number> {
  const rec = await findSession(ctx.backends, rawId);
  requireRunning(rec, 'attach');
  const detachKey = parseDetachKey(opts.detachKey ?? 'C-\\');
  const backend = ctx.backends.for(rec);
  const printOnly = opts.print === true || (backend.name === 'tmux' && !process.stdout.isTTY);
  // Recorded once the screen is shown: an attach that fails does not count, and the
  // file's lock does not delay the first picture.
  const hint = hintWanted(opts.hint) ? hintText(rec.uuid, detachKey) : null;
  return backend.attachTerminal(rec, { readOnly: opts.readOnly === true, detachKey, redraw: opts.redraw === true, printOnly, hint, onAttached: () => recordAttached(ctx, rec.uuid) });
}
