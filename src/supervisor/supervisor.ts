import * as fs from 'node:fs';
import * as net from 'node:net';
import { encodeFrame } from '../protocol/framing';
import { type ClientMessage, FEATURES, type Hello, PROTOCOL_VERSION } from '../protocol/messages';
import type { ArgsOf, CaptureReply, StatusReply, WaitReply } from '../protocol/ops';
import { type SessionFiles, sessionFilesIn } from '../places';
import type { SupervisorConfig } from '../store/session-dir';
import { BEFORE_REPLAY } from '../terminal-modes';
import { Activity } from './driving/activity';
import { type AgentExit, AgentProcess } from './lifecycle/agent-process';
import { BACKLOG_LIMIT, Connection } from './viewers/connection';
import { TaskDelivery } from './driving/delivery';
import { recordEnd, writeFinalScreen } from './lifecycle/end-files';
import { takeTerminal } from './viewers/handover';
import { classifyInput, countCprQueries } from './viewers/input-kind';
import { TaskQueue } from './driving/queue';
import { FloodPump } from './native/flood-pump';
import { RelayPolicy } from './native/relay-policy';
import { type RequestHost, handleRequest } from './requests';
import { Screen } from './mirror/screen';
import { log } from './lifecycle/log';
import { answeringViewer, chooseSize, lastTypedOrder } from './viewers/size-policy';
import { Typing } from './driving/typing';
import { VERSION } from '../version';
import { type WaitCondition, Waits } from './driving/waits';

// One supervisor per agent: it owns the agent's pty, mirrors its screen, serves viewers
// and control requests on a Unix socket, and records how the agent ended.

/** Parser backlog that pauses reading from the pty (and where reading resumes). */
const PARSE_HIGH_WATER = 8 * 1024 * 1024;
const PARSE_LOW_WATER = 2 * 1024 * 1024;
/** A connection that says nothing for this long after connecting is dropped. */
const HELLO_TIMEOUT_MS = 10_000;
const MAX_CONNECTIONS = 256;
/** Quiet output after which the snapshot is prepared in advance. */
const WARM_AFTER_MS = 500;
const WARM_MIN_LINES = 1000;
const TERMINAL_BACKLOG_MIN = 32 * 1024;
/** Redraws of a viewer that cannot keep up with a flood, at most this often. */
const RESYNC_GAP_MS = 250;
/** A handed-over terminal gets this long to take the agent's last output before the exit. */
const EXIT_FLUSH_MS = 1000;
const SERVER_NAME = `symposium-mcp-supervisor/${VERSION}`;

export class Supervisor implements RequestHost {
  readonly screen: Screen;
  readonly activity: Activity;
  readonly queue: TaskQueue;
  readonly waits: Waits;
  agent!: AgentProcess;
  readonly conns = new Set<Connection>();
  private server!: net.Server;
  private warmTimer: NodeJS.Timeout | null = null;
  /** Bytes of output the agent wrote so far. */
  bytesIn = 0;
  exitInfo: AgentExit | null = null;
  /** Set once the exit record is on disk. */
  ended = false;
  private endedWaiters: Array<() => void> = [];
  private readonly typing: Typing;
  /** Terminals being let go at the end (their last output flushing). */
  private releasing: Array<Promise<void>> = [];
  readonly delivery: TaskDelivery;
  /** The native key relay for one handed-over terminal at a time (relay-policy.ts). */
  readonly relays: RelayPolicy;
  /** The native reader of the agent's output during a flood (flood-pump.ts). */
  private readonly pump: FloodPump;
  private readonly files: SessionFiles;

  constructor(readonly config: SupervisorConfig) {
    this.files = sessionFilesIn(config.sessionDir);
    this.screen = new Screen(config.cols, config.rows, config.scrollbackLines, config.scrollbackBytes);
    this.activity = new Activity(
      this.screen.term,
      config.idleMs,
      () => this.screen.parsedSeq + 1,
      () => this.screen.seq,
    );
    this.queue = new TaskQueue(this.files.queue);
    const sup = this;
    this.waits = new Waits({
      get ended() {
        return sup.ended;
      },
      get exitInfo() {
        return sup.exitInfo;
      },
      msUntilIdle: (ms) => this.activity.msUntilIdle(ms),
      visibleText: () => this.screen.visibleText(),
    });
    this.delivery = new TaskDelivery({
      queue: this.queue,
      activity: this.activity,
      idleMs: config.idleMs,
      accepting: () => this.agent !== undefined && !this.ended,
      lastTypedAt: () => Math.max(0, ...[...this.conns].map((c) => c.typedAt)),
      type: (parts) => this.type(parts),
    });
    this.typing = new Typing(
      () => this.agent,
      () => this.screen.term.modes.bracketedPasteMode,
    );
    this.relays = new RelayPolicy(this);
    this.pump = new FloodPump(this);
    this.screen.onParsed = () => this.parsed();
    // Answers to the agent's queries (DA, CPR…) from the headless terminal reach the
    // agent only while no viewer's real terminal is there to answer.
    this.screen.term.onData((answer) => {
      if (!answeringViewer(this.conns)) this.agent.write(answer);
    });
  }

  /** Listens, then starts the agent. Throws when either fails. */
  async start(): Promise<void> {
    await this.listen();
    this.agent = new AgentProcess(this.config.command, this.config.workdir, this.config.cols, this.config.rows, (d) =>
      this.output(d),
    );
    this.agent.onExit((e) => void this.agentExited(e));
    this.delivery.schedule();
  }

  private listen(): Promise<void> {
    const path = this.config.socketPath;
    try {
      fs.unlinkSync(path); // a stale socket of a dead supervisor (the CLI checked none answers)
    } catch {
      /* none */
    }
    this.server = net.createServer((socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      // umask makes the socket 0600 from its creation: no window where others could connect.
      const old = process.umask(0o177);
      this.server.listen(path, () => {
        process.umask(old);
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private accept(socket: net.Socket): void {
    if (this.conns.size >= MAX_CONNECTIONS) {
      socket.end(encodeFrame({ t: 'error', code: 'internal', message: `too many connections (${MAX_CONNECTIONS})` }));
      socket.on('error', () => {});
      return;
    }
    const conn = new Connection(
      socket,
      (c, m) => this.message(c, m),
      (c) => this.closed(c),
    );
    this.conns.add(conn);
    const timer = setTimeout(() => {
      if (conn.state === 'handshake') conn.fail('hello-required', 'no hello within 10 s');
    }, HELLO_TIMEOUT_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer)); // else it holds the connection for 10 s
    socket.on('drain', () => this.drained(conn));
  }

  private message(c: Connection, m: ClientMessage): void {
    if (c.state === 'handshake') {
      if (m.t !== 'hello') {
        c.fail('hello-required', `the first message must be hello, got ${m.t}`);
        return;
      }
      this.hello(c, m);
      return;
    }
    switch (m.t) {
      case 'hello':
        c.fail('bad-message', 'hello was already received');
        return;
      case 'input':
        this.input(c, Buffer.from(m.data));
        return;
      case 'resize':
        if (!c.isViewer) return c.fail('bad-message', 'resize needs an attach connection');
        if (c.readOnly) return c.send({ t: 'error', code: 'read-only', message: 'read-only viewers cannot resize' });
        c.cols = m.cols;
        c.rows = m.rows;
        this.applySize();
        return;
      case 'detach':
        c.end();
        return;
      case 'request':
        handleRequest(this, c, m.id, m.call);
        return;
    }
  }

  private hello(c: Connection, m: Hello): void {
    if (m.protocol !== PROTOCOL_VERSION) {
      c.fail(
        'version-mismatch',
        `client speaks protocol ${m.protocol}, this supervisor speaks protocol ${PROTOCOL_VERSION}; use a symposium-mcp of the same version as the one that spawned the agent`,
      );
      return;
    }
    c.state = m.mode;
    c.readOnly = m.readOnly;
    c.cols = m.readOnly ? null : m.cols;
    c.rows = m.readOnly ? null : m.rows;
    c.attachedAt = Date.now();
    const terminalError = m.mode === 'attach' && m.terminal ? takeTerminal(this, c, m.terminal) : null;
    if (c.terminal) c.beforeRelease = () => this.relays.releaseFor(c);
    c.send({
      t: 'welcome',
      protocol: PROTOCOL_VERSION,
      server: SERVER_NAME,
      features: [...FEATURES],
      session: {
        id: this.config.id,
        supervisorPid: process.pid,
        agentPid: this.agent.pid,
        cols: this.screen.cols,
        rows: this.screen.rows,
        viewerId: c.id,
        readOnly: c.readOnly,
        terminal: c.terminal !== null,
        terminalError,
      },
    });
    if (m.mode !== 'attach') return;
    if (this.ended) {
      // Attached after the end: show the final screen, then the exit.
      this.sendSnapshot(c, 'attach');
      return;
    }
    const changed = this.applySize();
    this.sendSnapshot(c, 'attach');
    // Same size: the kernel sends no SIGWINCH, but a redraw is still wanted (shpool does this too).
    if (!changed && c.canWrite) this.agent.nudgeRedraw();
  }

  /** Keys from a viewer; `alreadyWritten`: the native relay wrote them to the agent itself. */
  input(c: Connection, data: Buffer, alreadyWritten = false): void {
    if (!c.isViewer && c.state !== 'control') return;
    if (c.readOnly) {
      c.send({ t: 'error', code: 'read-only', message: 'this connection is read-only: input refused' });
      return;
    }
    if (c.isViewer && !c.live) return; // input during the replay is dropped (VS Code does too)
    const k = classifyInput(data, c);
    c.cprAnswered(k.cprAnswers);
    let out = data;
    if (k.hadAnswers && c.isViewer && answeringViewer(this.conns) !== c) out = k.withoutAnswers;
    if (k.typed && c.isViewer) {
      // Typing makes a viewer the size owner (`latest`): nothing changes when it already was.
      const wasLatest = c.typedOrder > 0 && c.typedOrder === lastTypedOrder(this.conns);
      c.markTyped();
      if (!wasLatest) this.applySize();
    }
    if (out.length > 0 && !alreadyWritten) this.agent.write(out);
  }

  private closed(c: Connection): void {
    this.conns.delete(c);
    this.waits.ownerGone(c);
    if (c.isViewer || c.cols !== null) this.applySize();
    this.relays.viewerLeft();
  }

  /** Resizes the agent to what the size policy says; true when the size changed. */
  applySize(): boolean {
    if (this.ended) return false;
    const size = chooseSize(this.config.sizePolicy, [...this.conns].filter((c) => !c.closed));
    if (!size || (size.cols === this.screen.cols && size.rows === this.screen.rows)) return false;
    this.agent.resize(size.cols, size.rows);
    this.screen.resize(size.cols, size.rows);
    const frame = encodeFrame({ t: 'size', cols: size.cols, rows: size.rows });
    // A viewer still waiting for its snapshot learns the size from it.
    for (const v of this.conns) if (v.isViewer && v.live) v.sendFrame(frame);
    return true;
  }

  /** Sends a snapshot joined to the stream: snapshot at N, then chunks after N, then live. */
  sendSnapshot(c: Connection, reason: 'attach' | 'resync'): void {
    c.live = false;
    // A resync carries the visible screen only: the lines the viewer missed are gone for
    // it anyway, and a full history every time a slow viewer drains would cost the
    // supervisor (serializing blocks it) and flood that viewer's scrollback with repeats.
    this.screen.snapshot((snap) => {
      if (c.closed) return;
      const t = c.terminal;
      if (t) {
        t.write(BEFORE_REPLAY);
        t.write(snap.bytes);
        for (const ch of snap.after) t.write(ch.data);
        c.send({ t: 'shown', seq: snap.seq, cols: snap.cols, rows: snap.rows, reason });
      } else {
        c.send({ t: 'snapshot', seq: snap.seq, cols: snap.cols, rows: snap.rows, reason, data: snap.bytes.toString('utf8') });
        for (const ch of snap.after) c.send({ t: 'output', seq: ch.seq, data: ch.data });
      }
      c.stale = false;
      c.live = true;
      if (this.ended) this.sendExit(c);
      else if (t) this.relays.consider(c);
    }, reason === 'attach');
  }

  /**
   * During a flood, how far a handed-over terminal may fall behind before it is skipped and
   * later redrawn: tmux's rule (8 bytes per cell of the window, ~38 KB at 120x40; the kernel
   * holds up to 64 KB more). A terminal that cannot keep up with a flood then shows the
   * screen as it is, redrawn a few times a second, instead of minutes of old lines, and a
   * Ctrl-C typed into the flood shows its effect at once (measured: a 100 MB flood reached
   * the terminal as 2.5 to 4.6 MB; tmux's client got 0.8 to 1.7 MB). Short of a flood the
   * limit is 1 MiB, so a terminal that stalls a moment misses no line.
   */
  private terminalBacklogLimit(): number {
    return Math.max(TERMINAL_BACKLOG_MIN, 8 * this.screen.cols * this.screen.rows);
  }

  drained(c: Connection): void {
    if (!c.stale || c.closed || c.resyncTimer) return;
    // In a flood, a redraw at most every RESYNC_GAP_MS: each one has the mirror parse up to
    // that point, and the viewer could not take the stream anyway.
    const wait = c.resyncedAt + RESYNC_GAP_MS - Date.now();
    if (wait > 0 && this.screen.flooding) {
      c.resyncTimer = setTimeout(() => {
        c.resyncTimer = null;
        this.drained(c);
      }, wait);
      return;
    }
    c.resyncedAt = Date.now();
    this.sendSnapshot(c, 'resync');
  }

  /** Agent output; `from`: a viewer whose terminal the native relay already wrote it to. */
  output(data: Buffer, from: Connection | null = null): void {
    this.bytesIn += data.length;
    // Viewers first (keystroke echo latency), the mirror after: the chunk gets the next
    // sequence number either way, and a viewer not yet live gets it with its snapshot.
    const seq = this.screen.seq + 1;
    let frame: Buffer | null = null;
    let cprQueries = -1;
    for (const c of this.conns) {
      if (!c.live || c.stale) continue;
      if (c !== from && c.backlog > (c.terminal && this.screen.flooding ? this.terminalBacklogLimit() : BACKLOG_LIMIT)) {
        // Too far behind: stop feeding it; on 'drain' it gets a fresh snapshot instead.
        c.stale = true;
        continue;
      }
      // Cursor queries counted only when someone sees them.
      if (cprQueries < 0) cprQueries = countCprQueries(data);
      if (c === from) {
        // The native relay wrote it to this viewer's terminal already.
      } else if (c.terminal) {
        c.terminal.write(data);
      } else {
        frame ??= encodeFrame({ t: 'output', seq, data }); // encoded once for all viewers
        c.sendOutputFrame(frame);
      }
      if (cprQueries > 0) c.cprAsked(cprQueries);
    }
    this.screen.write(data);
    if (this.screen.unparsedBytes > PARSE_HIGH_WATER) this.agent.pause();
    if (from === null) this.pump.consider();
    this.activity.output();
    this.warmSoon();
    this.delivery.schedule();
  }

  /**
   * Once the output has been quiet for WARM_AFTER_MS, serialize the screen in advance: an
   * attach then shows it at once instead of paying for the serialization (~30 ms per
   * 1 000 lines of history). One timer, re-armed only when it fires, so a flood costs
   * nothing per chunk.
   */
  private warmSoon(): void {
    if (this.warmTimer) return;
    const fire = () => {
      const quiet = Date.now() - this.activity.lastOutputAt;
      if (quiet < WARM_AFTER_MS) {
        this.warmTimer = setTimeout(fire, WARM_AFTER_MS - quiet);
        return;
      }
      this.warmTimer = null;
      // A short history serializes in a few ms anyway; its garbage would only grow the
      // idle heap (memory counts once per agent).
      if (!this.ended && this.screen.term.buffer.normal.length >= WARM_MIN_LINES) this.screen.warm();
    };
    this.warmTimer = setTimeout(fire, WARM_AFTER_MS);
  }

  private parsed(): void {
    if (this.screen.unparsedBytes < PARSE_LOW_WATER) this.agent.resume();
    this.waits.screenChanged();
  }

  get idleMs(): number {
    return this.config.idleMs;
  }

  status(): StatusReply {
    const viewers = [...this.conns].filter((c) => c.isViewer);
    return {
      id: this.config.id,
      supervisorPid: process.pid,
      agentPid: this.agent.pid,
      cols: this.screen.cols,
      rows: this.screen.rows,
      sizePolicy: this.config.sizePolicy,
      viewers: viewers.length,
      readOnlyViewers: viewers.filter((c) => c.readOnly).length,
      lastOutputAt: this.activity.lastOutputAt || null,
      idleMs: this.config.idleMs,
      activity: this.ended ? null : this.activity.isIdle() ? 'idle' : 'working',
      title: this.screen.modes.windowTitle,
      seq: this.screen.seq,
      ended: this.ended,
      exitCode: this.exitInfo?.code ?? null,
      exitSignal: this.exitInfo?.signal ?? null,
      queued: this.queue.list().filter((t) => t.state === 'queued').length,
      connections: this.conns.size,
      bufferedBytes: [...this.conns].reduce((n, c) => n + c.bufferedBytes, 0),
    };
  }

  async capture(args: ArgsOf<'capture'>): Promise<CaptureReply> {
    // What is parsed up to now, after the output received so far has been parsed.
    await this.screen.flush();
    return { ...this.screen.capture(args), final: this.ended };
  }

  wait(cond: WaitCondition, timeoutMs: number | null, from: Connection): Promise<WaitReply> {
    return this.waits.add(from, cond, timeoutMs);
  }

  /** Types for `send` and the queue (see typing.ts). */
  type(parts: Array<{ data: Buffer; paste: boolean }>): Promise<void> {
    return this.typing.type(parts);
  }

  // ---- the end ---------------------------------------------------------------------

  onEnded(cb: () => void): void {
    if (this.ended) cb();
    else this.endedWaiters.push(cb);
  }

  private async agentExited(e: AgentExit): Promise<void> {
    // node-pty reports the exit once the pty stream has ended (AgentProcess makes sure the
    // kernel had nothing left): all output is here, xterm only has to parse it.
    this.agent.resume();
    const exitAt = Date.now();
    await this.screen.flush();
    const flushedAt = Date.now();
    this.exitInfo = e;
    recordEnd(this.files, this.config, e, e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`);
    const recordedAt = Date.now();
    this.ended = true;
    this.delivery.stop();
    for (const c of this.conns) {
      if (!c.isViewer || !c.live) continue;
      // A viewer that fell behind gets the final screen first (the exit follows it).
      if (c.stale) this.sendSnapshot(c, 'resync');
      else this.sendExit(c);
    }
    this.waits.agentEnded();
    for (const w of this.endedWaiters) w();
    this.endedWaiters = [];
    // The final screen (megabytes with a full scrollback: a few hundred ms) once everyone
    // has been told, and after the terminals let go; until it is on disk, `capture` asks
    // this supervisor, which listens until then.
    setTimeout(() => {
      const screenAt = Date.now();
      writeFinalScreen(this.files, this.screen);
      const gone = this.agent.goneAt ? `${exitAt - this.agent.goneAt} ms after the child was seen gone, ` : '';
      log(
        `agent ended (${JSON.stringify(e)}) after ${this.bytesIn} bytes of output, ${this.screen.skippedBytes} fast-forwarded; ` +
          `exit reported ${gone}mirror flushed in ${flushedAt - exitAt} ms, recorded in ${recordedAt - flushedAt} ms, ` +
          `final screen written in ${Date.now() - screenAt} ms`,
      );
      this.shutdownSoon();
    }, 0);
  }

  private sendExit(c: Connection): void {
    const exit = { t: 'exit', code: this.exitInfo?.code ?? null, signal: this.exitInfo?.signal ?? null } as const;
    if (!c.terminal) return c.send(exit);
    // The client prints its exit line once told: the terminal must be ours no more.
    this.releasing.push(c.releaseTerminal(EXIT_FLUSH_MS).then(() => c.send(exit)));
  }

  /** Lets viewers and pending requests receive their last frames, then exits. */
  private shutdownSoon(): void {
    const finish = () => {
      try {
        this.server.close();
        fs.unlinkSync(this.config.socketPath);
      } catch {
        /* gone */
      }
      process.exit(0);
    };
    // Viewers get the exit and close; control connections may still ask for the final
    // screen for a moment (a `wait --exit` racing the end).
    const afterReleases = (fn: () => void) => void Promise.all(this.releasing).then(() => setTimeout(fn, 100));
    afterReleases(() => {
      // Ending a connection drops it from this.conns at once: keep them to watch their flush.
      const ending = [...this.conns];
      for (const c of ending) c.end();
      const deadline = Date.now() + 2000;
      const poll = setInterval(() => {
        const pending = ending.some((c) => !c.socket.destroyed && c.backlog > 0);
        if (!pending || Date.now() > deadline) {
          clearInterval(poll);
          finish();
        }
      }, 10);
    });
  }

  /** SIGTERM to the supervisor, or a kill request: end the agent the polite way first. */
  async terminate(graceMs: number): Promise<void> {
    if (!this.ended) await this.agent.terminate(graceMs);
    await new Promise<void>((r) => this.onEnded(r));
  }
}
