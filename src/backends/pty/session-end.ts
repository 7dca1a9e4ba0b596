import * as fs from 'node:fs';
import {
  type ExitRecord,
  type FallbackFiles,
  type FinalScreen,
  type SessionFiles,
  readExitRecord,
  readFinalScreen,
} from '../../store/session-dir';
import { writeFileAtomic } from '../../sys/atomic-write';
import { readFileNoFollow } from '../../sys/read-file';

// Where a pty session's end is on disk: the exit record and the final screen its
// supervisor wrote into the session's directory, or, when that disk was full or read-only
// at the agent's exit, beside its socket in the runtime directory (a tmpfs, emptied at
// reboot or logout: such copies are moved into the session's directory once it takes them).

export class SessionEnd {
  constructor(
    private readonly files: SessionFiles,
    /** null: the runtime directory is not usable (missing or unsafe). */
    private readonly fallback: FallbackFiles | null,
  ) {}

  private first(own: string, other: string | undefined): string | null {
    if (fs.existsSync(own)) return own;
    return other !== undefined && fs.existsSync(other) ? other : null;
  }

  get hasExit(): boolean {
    return this.first(this.files.exit, this.fallback?.exit) !== null;
  }

  get hasScreen(): boolean {
    return this.first(this.files.screen, this.fallback?.screen) !== null;
  }

  exit(): ExitRecord | null {
    const f = this.first(this.files.exit, this.fallback?.exit);
    return f ? readExitRecord(f) : null;
  }

  screen(): FinalScreen | null {
    const f = this.first(this.files.screen, this.fallback?.screen);
    return f ? readFinalScreen(f) : null;
  }

  /** Where the final screen should be, for messages. */
  get screenPath(): string {
    return this.files.screen;
  }

  /** Moves copies left in the runtime directory into the session's directory, if it takes them now (best effort). */
  settle(): void {
    if (!this.fallback) return;
    for (const [fallback, own] of [
      [this.fallback.exit, this.files.exit],
      [this.fallback.screen, this.files.screen],
    ] as const) {
      if (!fs.existsSync(fallback)) continue;
      try {
        if (!fs.existsSync(own)) writeFileAtomic(own, readFileNoFollow(fallback));
        fs.rmSync(fallback, { force: true });
      } catch {
        /* still full, or read-only: it stays where it is */
      }
    }
  }

  /** The copies in the runtime directory (when the session is removed or started again). */
  removeFallback(): void {
    if (!this.fallback) return;
    for (const f of [this.fallback.exit, this.fallback.screen]) fs.rmSync(f, { force: true });
  }
}
