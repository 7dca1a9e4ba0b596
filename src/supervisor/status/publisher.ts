import * as fs from 'node:fs';
import type { LiveStatus } from '../../store/live-status';
import { writeFileAtomic } from '../../sys/atomic-write';
import { log } from '../lifecycle/log';

// Keeps the status file (store/live-status.ts) up to date, so that `agent list` reads it
// instead of asking. Written only when something it holds changed, and at most once per
// PUBLISH_INTERVAL_MS (the first change after a quiet spell at once); before any reply
// (`flush`), so that what a client was just told (a `wait` that saw the agent turn idle),
// a `list` right after reads too. An idle supervisor writes nothing and runs no timer.

/**
 * Writes at most this often. A title that changes with every frame of a spinner changes
 * the state's reason as often: bounded here to 5 writes a second, each ~25 µs of the
 * supervisor's CPU on a tmpfs and ~120 µs on ext4 (2 000 writes of a 330-byte status,
 * temporary file written and renamed, at load 17), so at most 0.06 % of a core; `list`
 * lags at most this much behind a change nobody was told about in a reply.
 */
export const PUBLISH_INTERVAL_MS = 200;

/**
 * While output flows, its time is written again only once it moved this far: `list`
 * shows it in whole seconds ("last output 3s ago"), so a flood costs one comparison per
 * chunk and one write a second, not one per chunk. The next change of state writes it
 * exactly (an agent turns idle after its output has been quiet for the idle time).
 */
export const OUTPUT_TIME_STEP_MS = 1000;

export class StatusPublisher {
  private started = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  /** What the file holds (null: nothing we know of). */
  private written: string | null = null;
  private writtenAt = 0;
  /** lastOutputAt as the file holds it (0: none). */
  private outputAt = 0;
  private failing = false;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => LiveStatus,
  ) {}

  /** The agent runs: the first status is written (nothing is, before). */
  start(): void {
    this.started = true;
    this.changed();
  }

  /** Something the file holds may have changed: written soon. */
  changed(): void {
    if (this.timer || !this.started || this.closed) return;
    const wait = Math.max(0, this.writtenAt + PUBLISH_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, wait);
    this.timer.unref();
  }

  /** Output arrived at `at` (ms since the epoch): one comparison per chunk. */
  output(at: number): void {
    if (at - this.outputAt >= OUTPUT_TIME_STEP_MS) this.changed();
  }

  /** Up to date now (before a reply, at the agent's exit). */
  flush(): void {
    if (!this.started || this.closed) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.write();
  }

  /** The supervisor leaves: its word goes with it. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closed = true;
    if (this.started) removeQuietly(this.file);
  }

  private write(): void {
    const s = this.snapshot();
    const text = JSON.stringify(s);
    if (text === this.written) return;
    try {
      writeFileAtomic(this.file, text, { durable: false });
      this.written = text;
      this.writtenAt = Date.now();
      this.outputAt = s.lastOutputAt ?? 0;
      this.failing = false;
    } catch (err) {
      // An old file would be believed: without one, `list` asks this supervisor instead.
      this.written = null;
      this.writtenAt = Date.now();
      if (!this.failing) log(`status file ${this.file} not written (\`list\` asks instead): ${(err as Error).message}`);
      this.failing = true;
      removeQuietly(this.file);
    }
  }
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    /* a file system that refuses everything: the reader's pid check still holds */
  }
}
