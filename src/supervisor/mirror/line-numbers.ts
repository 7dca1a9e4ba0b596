import type { Terminal } from '@xterm/headless';
import { type LineList, normalLines } from './xterm-internals';

// Absolute line numbers on the normal screen: a line is numbered `trimmed` + its index in
// xterm's buffer, for as long as the agent runs (capture's firstLine / nextLine, which
// `capture --since` continues from). `trimmed` counts the lines dropped from the top of the
// buffer, across resets too, and those a fast-forward skipped (history-keeper.ts). A resize
// reflows the live lines and may shift later numbers by a few.

export class LineNumbers {
  /** Lines dropped from the top of the normal buffer so far (also across resets). */
  trimmed = 0;
  /** The normal buffer's line list whose trims are counted (a reset makes a new one). */
  private watched: LineList | null = null;
  /** The number of the first line of the list a reset is about to make. */
  private baseAfterReset: number | null = null;

  constructor(private readonly term: Terminal) {
    this.watch();
  }

  /** Counts the lines dropped from the normal buffer's list, a new list (after a reset) too. */
  watch(): void {
    const lines = normalLines(this.term);
    if (!lines || lines === this.watched) return;
    this.watched = lines;
    if (this.baseAfterReset !== null) this.trimmed = this.baseAfterReset;
    this.baseAfterReset = null;
    lines.onTrim?.call(lines, (n: number) => {
      if (this.watched === lines) this.trimmed += n;
    });
  }

  /** A reset (RIS) is about to replace the list: its first line will be numbered `first`. */
  resetTo(first: number): void {
    this.baseAfterReset = first;
  }

  /** A reset is under way: the new list is not counted yet. */
  get resetting(): boolean {
    return this.baseAfterReset !== null;
  }
}
