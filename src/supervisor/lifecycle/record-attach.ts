import * as fs from 'node:fs';
import { LOCK_BUSY } from '../../store/lock';
import { tryUpdateSessions } from '../../store/file';
import { type SupervisorConfig, sessionsFileOf } from '../../store/session-dir';
import { type SystemTime, now, toMillis } from '../../store/time';
import { log } from './log';

// The session's `last_attached`, written by the supervisor once a viewer in attach mode
// has been shown its first picture (welcome feature `records-attach`, protocol.md §4):
// clients need not load the store to record it (the native attach client has none), and
// those that see the feature skip their own write. Never waiting for the lock and never
// before the picture is out: a busy lock is tried again later, and a few attaches in a row
// make one write, of the last one's time.

/** A held sessions lock is tried again this often… */
const RETRY_MS = 100;
/** …for this long; then this attach goes unrecorded (the next one records it). */
const TRY_MS = 10_000;

/** Not fsynced: a power cut that loses when a session was last looked at loses nothing else. */
function tryRecord(config: SupervisorConfig, at: SystemTime): 'done' | 'busy' | 'failed' {
  const file = sessionsFileOf(config);
  // A home removed under us is not made again for this.
  if (!fs.existsSync(file)) return 'failed';
  try {
    const r = tryUpdateSessions(
      file,
      (map) => {
        const rec = map.get(config.id);
        // Only our own incarnation: a restarted or re-spawned session has another created_at.
        if (rec && toMillis(rec.created_at) === config.createdAtMs) rec.last_attached = at;
      },
      { durable: false },
    );
    return r === LOCK_BUSY ? 'busy' : 'done';
  } catch {
    return 'failed';
  }
}

export class AttachRecord {
  /** The time to write (the last picture shown), null when nothing waits. */
  private pending: SystemTime | null = null;
  private timer: NodeJS.Timeout | null = null;
  private deadline = 0;

  constructor(private readonly config: SupervisorConfig) {}

  /** A viewer was shown its first picture now. */
  attached(): void {
    this.pending = now();
    this.deadline = Date.now() + TRY_MS;
    // After what was queued for the viewer: its picture goes out first.
    if (this.timer) return;
    this.timer = setTimeout(() => this.write(), 0);
    this.timer.unref();
  }

  private write(): void {
    this.timer = null;
    const at = this.pending;
    if (at === null) return;
    const r = tryRecord(this.config, at);
    if (r === 'busy' && Date.now() < this.deadline) {
      this.timer = setTimeout(() => this.write(), RETRY_MS);
      this.timer.unref();
      return;
    }
    if (r !== 'done') log(`cannot record the attach in the session file (${r === 'busy' ? 'it stayed locked' : 'it cannot be written'})`);
    this.pending = null;
  }
}
