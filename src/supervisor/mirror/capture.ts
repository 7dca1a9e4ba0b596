import type { IBuffer, Terminal } from '@xterm/headless';
import type { HistoryKeeper } from './history-keeper';
import { flat, renderAnsiLines } from './render';

// The screen as text, of what is parsed so far: capture (like `tmux capture-pane -p`, with
// absolute line numbers to continue from), the visible rows, and the final screen kept on
// disk after the end. The history is read from xterm's buffer and, for older lines, from
// the archive (history-keeper.ts).

export interface CaptureText {
  text: string;
  cols: number;
  rows: number;
  cursor: { x: number; y: number };
  /** The normal screen's absolute number of the first line of `text` (null on the alternate screen). */
  firstLine: number | null;
  /** The absolute number of the cursor's line: where a capture `since` it continues. */
  nextLine: number | null;
  /** Lines asked for (`since`) that had already left the history. */
  skipped: number;
  /** The alternate screen is shown (a full-screen program): `text` is that screen. */
  alternate: boolean;
}

export interface CaptureOptions {
  lines: number | null;
  scrollback: boolean;
  ansi: boolean;
  /** From this absolute line on (a previous capture's nextLine), history included. */
  since: number | null;
}

/** The final screen as it is kept on disk for `capture` after the end. */
export interface FinalScreenData {
  cols: number;
  rows: number;
  cursor: { x: number; y: number };
  lines: string[];
  ansiLines: string[];
  scrollbackLines: number;
  /** The absolute number of lines[0] (lines that left the history before it). */
  firstLine: number;
}

/** The screen as text (of what is parsed so far), like `tmux capture-pane -p`. */
export function capture(term: Terminal, history: HistoryKeeper, opts: CaptureOptions): CaptureText {
  history.sync();
  const buf = term.buffer.active;
  const alternate = buf.type === 'alternate';
  // Absolute numbers on the normal screen (archive, then xterm's buffer); indexes on the alternate one.
  const base = alternate ? 0 : history.numbers.trimmed;
  const archived = alternate ? null : history.archive.next;
  const top = alternate ? 0 : (history.archive.first ?? base);
  let start = opts.scrollback ? top : base + buf.baseY;
  let skipped = 0;
  if (opts.since !== null && !alternate) {
    skipped = Math.max(0, top - opts.since);
    start = Math.max(top, Math.min(opts.since, base + buf.baseY + buf.cursorY));
  }
  const end = base + buf.baseY + term.rows;
  const live = archived === null ? start : Math.max(start, archived);
  const tail: string[] = [];
  for (let y = Math.max(0, live - base); y < end - base; y++) tail.push(lineAt(term, buf, y, opts.ansi));
  let lines = tail;
  if (archived !== null && start < archived) {
    // The archived lines, only as many as `lines` may need (each chunk read is replayed).
    const trimmedTail = dropBlankEnd(tail.slice());
    let from = start;
    if (opts.lines !== null && trimmedTail.length > 0) from = Math.max(start, archived - Math.max(0, opts.lines - trimmedTail.length));
    lines = from < archived ? [...archivedLines(history, from, archived, opts.ansi), ...tail] : tail;
    if (from > start && opts.lines !== null && dropBlankEnd(lines.slice()).length < opts.lines) lines = [...archivedLines(history, start, archived, opts.ansi), ...tail];
    else start = from;
  }
  dropBlankEnd(lines);
  if (opts.lines !== null && lines.length > opts.lines) {
    start += lines.length - opts.lines;
    lines = lines.slice(lines.length - opts.lines);
  }
  return {
    text: lines.join('\n'),
    cols: term.cols,
    rows: term.rows,
    cursor: { x: buf.cursorX, y: buf.cursorY },
    firstLine: alternate ? null : start,
    nextLine: alternate ? null : history.numbers.trimmed + buf.baseY + buf.cursorY,
    skipped,
    alternate,
  };
}

/** Something is drawn on the visible screen (a character that is not a space). */
export function hasContent(term: Terminal): boolean {
  const buf = term.buffer.active;
  for (let y = buf.baseY; y < buf.baseY + term.rows; y++) if ((buf.getLine(y)?.translateToString(true) ?? '').trim() !== '') return true;
  return false;
}

/** Visible screen text, lines joined by \n (for `wait --text`). */
export function visibleText(term: Terminal): string {
  const buf = term.buffer.active;
  const out: string[] = [];
  for (let y = buf.baseY; y < buf.baseY + term.rows; y++) out.push(flat(buf.getLine(y)?.translateToString(true) ?? ''));
  return out.join('\n');
}

/** Every line of the active buffer (the archived history too), plain and with colours, its size and cursor (the final screen on disk). */
export function finalScreen(term: Terminal, history: HistoryKeeper): FinalScreenData {
  history.sync();
  const buf = term.buffer.active;
  const normal = buf.type === 'normal';
  const trimmed = history.numbers.trimmed;
  const archive = history.archive;
  const next = normal ? archive.next : null;
  const first = next === null ? 0 : Math.max(0, next - trimmed);
  const archivedText = next === null ? null : archive.read(archive.first!, next, { plain: true, ansi: true });
  const lines: string[] = archivedText?.plain ?? [];
  const ansiLines: string[] = archivedText?.ansi ?? [];
  const archived = lines.length;
  for (let y = first; y < buf.length; y++) lines.push(flat(buf.getLine(y)?.translateToString(true) ?? ''));
  ansiLines.push(...renderAnsiLines(buf, first, buf.length, term.cols));
  return {
    cols: term.cols,
    rows: term.rows,
    cursor: { x: buf.cursorX, y: buf.cursorY },
    lines,
    ansiLines,
    scrollbackLines: archived + buf.baseY - first,
    firstLine: normal ? (archive.first ?? trimmed) : 0,
  };
}

/** A line of xterm's buffer as capture gives it: trailing blanks trimmed, or with colours. */
function lineAt(term: Terminal, buf: IBuffer, y: number, ansi: boolean): string {
  if (ansi) return renderAnsiLines(buf, y, y + 1, term.cols)[0]!;
  return (buf.getLine(y)?.translateToString(true) ?? '').replace(/\s+$/, '');
}

function archivedLines(history: HistoryKeeper, from: number, to: number, ansi: boolean): string[] {
  const lines = history.archive.lines(from, to, ansi);
  return ansi ? lines : lines.map((l) => l.replace(/\s+$/, ''));
}

/** Drops the blank lines at the end (colours aside), in place. */
function dropBlankEnd(lines: string[]): string[] {
  while (lines.length > 0 && stripAnsi(lines[lines.length - 1]!).trim() === '') lines.pop();
  return lines;
}

function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;:?]*[A-Za-z]/g, '');
}
