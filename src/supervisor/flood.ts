// Every flow-control and flood threshold of the supervisor, in one place (as VS Code's
// pty host keeps its FlowControlConstants), and the one meter that tells a flood from
// interactive output. The figures are measured on this project's machines (2 cores);
// each says why it is what it is. native/relay.c has its own counterparts, listed last.
// (An object rather than a const enum: the test runner compiles each file apart.)

export const Flood = {
  // ---- what a flood is -------------------------------------------------------------
  /** The arrival rate is measured over windows of this length. */
  RateWindowMs: 50,
  /** Output faster than this per window (10 MB/s) is a flood: the mirror batches it. */
  FloodBytesPerWindow: 512 * 1024,
  /**
   * A read this large found the pty's buffer full (the kernel hands out 4095 bytes at most
   * per read; a flood's reads are all that size, an agent's redraws far smaller, measured).
   */
  FullReadBytes: 4000,
  /**
   * This many full reads in a row, each within SaturatedGapMs of the last, are a flood too,
   * whatever the rate: the agent writes faster than we read, and on a slow machine our own
   * reading (a terminal attached: ~5 MB/s on a 2-vCPU VM, measured) never reaches the rate
   * above, so neither the batching nor the flood pump, which would speed it up, came.
   */
  SaturatedReads: 32,
  SaturatedGapMs: 2,
  /**
   * Output under this rate (bytes/s) is calm: the key relay may start, the flood pump
   * stops. One figure for both, so they never disagree about whose turn it is. A spinner
   * or a redraw is calm, a flood is not.
   */
  CalmBytesPerSecond: 1024 * 1024,
  /** How often a running flood pump, or a key relay waiting for calm, looks again. */
  CalmCheckMs: 250,

  // ---- the mirror (mirror/parse-queue.ts, flood-skip.ts, history-keeper.ts) --------
  /** Bytes handed to xterm and not yet parsed, at most (xterm parses in ~12 ms slices). */
  FeedBytes: 256 * 1024,
  /**
   * Below this backlog, fast-forwarding is not worth a scan; and a new attempt waits until
   * this much more has arrived (one scan per MiB keeps the cost near nothing). It must
   * stay below ParseHighWater, or the backlog would never reach it.
   */
  FastForwardMinBytes: 1024 * 1024,
  /**
   * A flood batch is parsed after BatchMaxMs, or sooner when this much waits that cannot
   * be skipped. Each batch parses at least the lines the scrollback keeps (~1 MB of text),
   * so longer batches parse less of a flood (measured, 100 MB: 150 ms batches parsed 17 %).
   */
  FloodBatchBytes: 6 * 1024 * 1024,
  BatchMaxMs: 400,
  /** Parser backlog that pauses reading from the pty (backpressure for our own parser only)… */
  ParseHighWater: 8 * 1024 * 1024,
  /** …and where reading resumes. */
  ParseLowWater: 2 * 1024 * 1024,

  // ---- viewers (viewers/) ----------------------------------------------------------
  /** Past this many unsent bytes a viewer is behind: it stops getting output until it drains, then gets a fresh screen. */
  ViewerBacklog: 1024 * 1024,
  /**
   * Past this many unsent bytes we stop reading the peer until it reads: a client that
   * sends requests but never reads the answers must not make us buffer without bound.
   */
  ReadPauseBacklog: 4 * 1024 * 1024,
  /**
   * During a flood, a handed-over terminal may fall this far behind, at least, before it
   * is skipped and redrawn; the limit is tmux's rule, 8 bytes per cell of the window
   * (~38 KB at 120x40; the kernel holds up to 64 KB more). Measured: a 100 MB flood reached
   * the terminal as 2.5 to 4.6 MB; tmux's client got 0.8 to 1.7 MB.
   */
  TerminalFloodBacklogMin: 32 * 1024,
  TerminalFloodBytesPerCell: 8,
  /** Redraws of a viewer that cannot keep up with a flood, at most this often. */
  ResyncGapMs: 250,

  // ---- what connections may make the supervisor hold (viewers/intake.ts) -----------
  /**
   * Requests of one connection being answered at once (waits excepted); its next frames
   * wait. With the backlog bound above, a client that asks without reading gets at most
   * this many answers computed past 4 MiB unread (3 000 `capture --scrollback` requests
   * took a supervisor from 83 MB to 4.6 GB, and its other clients waited 104 s).
   */
  RequestsInFlight: 4,
  /** Requests being answered in the whole supervisor; past it, requests wait their turn. */
  RequestsInFlightTotal: 32,
  /**
   * Bytes unsent to all connections together past which a connection that owes its peer
   * (more than its socket's 16 KiB high-water mark) gets nothing more handled until it
   * drains: 256 connections of 4 MiB each would otherwise hold 1 GiB.
   */
  TotalBacklog: 64 * 1024 * 1024,
  /**
   * Large frames (256 KiB and more, received into a buffer of their announced size) being
   * received, all connections together: four of 16 MiB. Past it a large frame is refused
   * (error `busy`), or 256 connections could hold 4 GiB of frames they never finish.
   */
  LargeFramesTotal: 64 * 1024 * 1024,

  // ---- input for the agent (lifecycle/agent-input.ts) --------------------------------
  /**
   * Input written for the agent that it has not read yet (and typing not yet written),
   * past which writers wait: a viewer's keys and frames are not read, a `send` is
   * answered `busy`. An agent that does not read held every byte: 40 x 16 MiB of input
   * took a supervisor from 53 to 837 MB, for good.
   */
  AgentInputBytes: 1024 * 1024,
  /** …and where waiting writers go on. */
  AgentInputLowWater: 256 * 1024,

  // ---- native/relay.c's counterparts (keep in step) ----------------------------------
  /** relay.c CHUNK: the largest frame the relay or the pump hands over. */
  RelayFrameBytes: 65536,
  /** relay.c OUT_LIMIT: frames queued for the supervisor before the agent waits. */
  RelayQueueBytes: 1024 * 1024,
  /** relay.c TERM_PENDING_LIMIT: output a slow terminal may owe the relay before it steps aside. */
  RelayTerminalPending: 256 * 1024,
} as const;

/**
 * The arrival rate of output, over Flood.RateWindowMs windows: `flooding` says whether
 * the last complete window was a flood (and is recent). One meter, fed by the mirror.
 */
export class RateMeter {
  private windowStart = 0;
  private windowBytes = 0;
  /** Bytes received in the last complete window. */
  private lastWindowBytes = 0;
  /** Full reads in a row, each soon after the last (Flood.SaturatedReads). */
  private fullReads = 0;
  private lastAt = 0;

  constructor(private readonly now: () => number = Date.now) {}

  record(bytes: number): void {
    const now = this.now();
    if (now - this.windowStart >= Flood.RateWindowMs) {
      // A gap of more than one window means the window before it was empty.
      this.lastWindowBytes = now - this.windowStart < 2 * Flood.RateWindowMs ? this.windowBytes : 0;
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
    if (bytes < Flood.FullReadBytes) this.fullReads = 0;
    else this.fullReads = now - this.lastAt <= Flood.SaturatedGapMs ? this.fullReads + 1 : 1;
    this.lastAt = now;
  }

  private get saturated(): boolean {
    return this.fullReads >= Flood.SaturatedReads;
  }

  get flooding(): boolean {
    const recent = this.now() - this.windowStart < 2 * Flood.RateWindowMs;
    return recent && (this.lastWindowBytes >= Flood.FloodBytesPerWindow || (this.saturated && this.now() - this.lastAt < 2 * Flood.RateWindowMs));
  }

  /** The last complete window was a flood, however long ago (the mirror's batching asks this). */
  get lastWindowFlooded(): boolean {
    return this.lastWindowBytes >= Flood.FloodBytesPerWindow || this.saturated;
  }
}

/**
 * The rate of a byte counter since a sample was taken: the key relay and the flood pump
 * ask it whether the output has become calm.
 */
export class RateSample {
  private at: number;
  private bytes: number;

  constructor(
    private readonly counter: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.at = now();
    this.bytes = counter();
  }

  /** Bytes per second since the sample (or since the last reset). */
  bytesPerSecond(): number {
    return ((this.counter() - this.bytes) * 1000) / Math.max(1, this.now() - this.at);
  }

  /** ms since the sample. */
  age(): number {
    return this.now() - this.at;
  }

  reset(): void {
    this.at = this.now();
    this.bytes = this.counter();
  }

  /** Faster than calm. */
  get busy(): boolean {
    return this.bytesPerSecond() > Flood.CalmBytesPerSecond;
  }
}
