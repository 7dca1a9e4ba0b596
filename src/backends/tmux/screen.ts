import { UserError } from '../../errors';
import { sessionPane } from './panes';
import { type TmuxServer, isNoServer, isNoSession, paneTarget, runTmux } from './run';

// Reading a pane's screen: capture-pane plus the cursor, in one tmux call.

export interface Screen {
  text: string;
  cols: number;
  rows: number;
  cursor: { x: number; y: number } | null;
  /** The agent has exited (status or signal known); the pane is kept for its screen. */
  ended: boolean;
}

export interface ScreenOptions {
  ansi: boolean;
  /** Lines of history above the screen: 0 none, 'all' the whole scrollback. */
  history: number | 'all';
}

const INFO = '#{cursor_x}\t#{cursor_y}\t#{pane_width}\t#{pane_height}\t#{pane_dead_status}\t#{pane_dead_signal}\t#{pane_dead}';

/** Trailing blanks per line and trailing empty lines go; the last `lines` lines stay. */
export function normalizeScreen(raw: string, lines: number | null): string {
  const out = raw.split('\n').map((l) => l.replace(/[ \t]+$/, ''));
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return (lines !== null ? out.slice(Math.max(0, out.length - lines)) : out).join('\n');
}

/** The raw screen of a session, or null when tmux has no such session. */
export async function readScreen(server: TmuxServer, name: string, opts: ScreenOptions): Promise<Screen | null> {
  const t = paneTarget(name);
  const capture = ['capture-pane', '-p', '-t', t];
  if (opts.ansi) capture.push('-e');
  if (opts.history === 'all') capture.push('-S', '-');
  else if (opts.history > 0) capture.push('-S', String(-opts.history));
  const r = await runTmux(server, [...capture, ';', 'display-message', '-p', '-t', t, INFO]);
  if (r.code !== 0) {
    if (isNoServer(r.stderr) || isNoSession(r.stderr)) return null;
    throw new UserError(`tmux capture-pane failed for ${name}: ${r.stderr.trim() || `exit code ${r.code}`}`);
  }
  // The capture ends with a newline; display-message's line comes last.
  const body = r.stdout.endsWith('\n') ? r.stdout.slice(0, -1) : r.stdout;
  const cut = body.lastIndexOf('\n');
  const info = body.slice(cut + 1).split('\t');
  const num = (i: number): number | null => (info[i] !== undefined && /^\d+$/.test(info[i]!) ? Number(info[i]) : null);
  const x = num(0);
  const y = num(1);
  let ended = num(4) !== null || num(5) !== null;
  // Closed but not reaped yet: sessionPane() gets the status (see panes.ts).
  if (!ended && info[6] === '1') ended = (await sessionPane(server, name))?.ended ?? false;
  return {
    text: cut < 0 ? '' : body.slice(0, cut),
    cursor: x !== null && y !== null ? { x, y } : null,
    cols: num(2) ?? 0,
    rows: num(3) ?? 0,
    ended,
  };
}
