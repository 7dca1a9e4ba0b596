// Every figure of the recordings, in one place: the defaults a session is spawned with,
// the bounds of what may be asked, and how the supervisor's writer holds back. Each says
// why it is what it is.
// (An object rather than a const enum: the test runner compiles each file apart.)

const MiB = 1024 * 1024;

export const Recording = {
  // ---- what a session keeps (README, "Limits") -------------------------------------
  /**
   * The last 64 MiB of a session are kept: a night (18 hours) of an agent writing 1 KB
   * a second, yet small beside a disk, which a flood then cannot fill.
   * `spawn --record-cap` sets another.
   */
  DefaultCapBytes: 64 * MiB,
  /**
   * Kept as this many parts (the oldest removed when a new one begins): rotation then drops
   * a quarter of the history at a time, never all of it.
   */
  Parts: 4,
  /** The smallest cap: a part must hold more than a screen (a 120x40 snapshot is ~10-50 KB). */
  MinCapBytes: 256 * 1024,
  /**
   * The largest cap that may be asked: `record` joins every part into one string, and V8's
   * strings stop at 512 MiB (a 560 MiB recording threw RangeError); half of that leaves
   * room for the JSON escapes a join adds.
   */
  MaxCapBytes: 256 * MiB,

  // ---- the supervisor's writer (supervisor/recording/) -------------------------------
  /**
   * Encoded events waiting for the disk, at most; past this, output is not recorded (and
   * a marker says how much) rather than held: the agent never waits for the recorder.
   * A disk that keeps up holds a few KB here; 8 MiB is over 100 ms of the fastest flood
   * (~70 MB/s from a pty, docs/benchmarks.md).
   */
  QueueBytes: 8 * MiB,
  /**
   * Queued text goes into buffers of this size at most (one system call writes them all),
   * starting at the smaller size: a quiet agent writes a few bytes at a time.
   */
  WriteBytes: 1 * MiB,
  WriteBytesMin: 16 * 1024,
  /**
   * A new part starts with the screen as it is, so that it plays alone. The mirror must
   * parse what it holds first: with more than this waiting, or in a flood, the part
   * begins without the screen instead (a flood's text plays on a blank screen as well),
   * so that rotation never makes the mirror parse megabytes it would have skipped.
   */
  SnapshotMaxBacklog: 1 * MiB,
  /** At the end the supervisor waits this long at most for the last events to reach the disk. */
  CloseWaitMs: 5000,

  // ---- readers (client/verbs/logs.ts, record.ts) ------------------------------------
  /** `logs --follow` looks for new events this often. */
  FollowPollMs: 100,
  /**
   * Just after the end, `logs` and `record` wait for the supervisor to finish the recording
   * (it exits once it has: about 0.2-0.4 s after the exit here), this long at most: above
   * CloseWaitMs and the 2 s it gives its connections.
   */
  ReaderWaitMs: 10_000,
} as const;
