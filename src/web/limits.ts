// Every threshold of the web viewer, in one place, each with the reason or measurement
// behind it. (An object rather than a const enum: the test runner compiles each file apart.)

export const WebLimits = {
  // ---- flow control (flow.ts) -------------------------------------------------------
  /**
   * Characters sent to a browser and not yet acknowledged as parsed by xterm.js, past which
   * it gets no more output until it has caught up, then one fresh screen. VS Code's pty
   * host pauses at the same figure; measured here, a 50 MB flood through a real bash left
   * the browser on the agent's exact final screen without ever slowing the agent.
   */
  UnackedChars: 100_000,
  /**
   * A browser that fell behind gets its fresh screen (a new attach: the supervisor
   * serializes the screen and its scrollback while the agent waits) when the output pauses
   * for ResyncCalmMs, or after ResyncMaxWaitMs while it goes on, and never sooner than
   * ResyncGapMs after the last one. Measured, 50 MB through bash on 2 loaded cores: a
   * browser given one every 500 ms made the flood take twice as long (24 replays of ~0.5 MB,
   * ~300 ms each); one that stopped acknowledging cost nothing measurable.
   */
  ResyncGapMs: 500,
  ResyncCalmMs: 100,
  ResyncMaxWaitMs: 5000,
  /**
   * While the output goes on, the wait is at least this many times what the last fresh
   * screen took to arrive (the supervisor's work, about): a page's fresh screens take at
   * most ~5 % of the supervisor's time, however loaded the machine (measured during a
   * 50 MB flood, 2 cores shared with other test runs: 250 to 330 ms each).
   */
  ResyncCostFactor: 20,
  /** Keys typed before a writable attach is live are held, up to this many characters. */
  HeldInputChars: 64 * 1024,

  // ---- the list (agents-feed.ts) ----------------------------------------------------
  /** How often the list is read while at least one page is open (a list of 20 agents takes ~20 ms). */
  ListPollMs: 1000,
  /** The last line of an agent's screen shown in the list, at most this long. */
  PreviewChars: 160,
  /**
   * A preview is captured again when the agent has written since; where the backend does
   * not say when it last wrote (tmux), this often (a capture there starts a tmux client).
   */
  PreviewRefreshMs: 5000,

  // ---- views without a stream (capture-view.ts) ---------------------------------------
  /** tmux sessions have no attach stream: their screen is captured this often instead. */
  CapturePollMs: 1000,

  // ---- messages and connections (ws-session.ts, server.ts) ----------------------------
  /** The largest WebSocket message a page may send (a pasted task of up to 1 MiB). */
  MaxMessageBytes: 1024 * 1024,
  /** A text sent or queued from the page, at most (a prompt, not a file). */
  MaxTextChars: 256 * 1024,
  /** A page that answers no ping for this long is gone (a phone that lost its network). */
  PingIntervalMs: 30_000,
  /** Signed-in browsers remembered at once; the oldest is forgotten first. */
  MaxSessions: 256,
  /** A token shorter than this (from --token-file) is refused: too easy to guess. */
  MinTokenChars: 16,
} as const;
