import * as fs from 'node:fs';
import type * as net from 'node:net';
import { encodeFrame } from '../../protocol/framing';
import { type ClientMessage, FEATURES, type Hello, PROTOCOL_VERSION } from '../../protocol/messages';
import type { OpCall } from '../../protocol/ops';
import { Flood } from '../flood';
import { factsFromAnswers } from '../mirror/query-answers';
import type { Screen } from '../mirror/screen';
import { Connection } from './connection';
import { takeTerminal } from './handover';
import { Intake } from './intake';
import { openPeerTerminal } from './peer-terminal';
import { classifyInput, countCprQueries } from './input-kind';
import { translateKeys } from './key-translate';
import { answeringViewer, chooseSize, lastTypedOrder } from './size-policy';
import { SocketOutput, TerminalOutput } from './viewer-output';

// Everyone connected to one supervisor: the handshake, the attach sequence of protocol.md
// §8 (the replay joined to the live stream), the fan-out of output, slow viewers and their
// resync, input and who answers the agent's queries, and the window size policy.

/**
 * A connection that has not said hello this long after connecting is dropped: a client
 * says it at once (the CLI within a few ms of connecting); 256 idle connections held
 * everyone out for the 10 s this was before.
 */
const HELLO_TIMEOUT_MS = 5000;
/** Open connections at most; at the limit, a new one takes the place of the oldest that has not said hello. */
const MAX_CONNECTIONS = 256;

/** What the viewers need of the supervisor. */
export interface HubHost {
  readonly id: string;
  readonly sizePolicy: 'latest' | 'smallest';
  readonly serverName: string;
  readonly screen: Screen;
  readonly ended: boolean;
  readonly exitInfo: { code: number | null; signal: string | null } | null;
  agentPid(): number;
  /** The agent's own terminal (its pty slave's path), which is never taken from a viewer. */
  agentTerminal(): string | null;
  /** The native helper (binary.ts), which tells who connected; null: none. */
  nativeBinary(): string | null;
  /** Keys for the agent, from `from` (which waits when the agent does not read them). */
  writeToAgent(data: Buffer, from: Connection): void;
  resizeAgent(cols: number, rows: number): void;
  /** Makes the program redraw without changing the size. */
  nudgeRedraw(): void;
  /** A request; `done` is called once its response is sent or dropped. */
  request(c: Connection, id: number, call: OpCall, done: () => void): void;
  /** A viewer whose terminal was handed over is live: the native relay may take it. */
  terminalLive(c: Connection): void;
  /** Stops the native relay before the terminal of `c` is let go (null: it does not drive it). */
  releaseRelay(c: Connection): Promise<void> | null;
  connectionClosed(c: Connection): void;
  /** A viewer sees the agent now (its first snapshot went out): for the recording. */
  viewerAttached(c: Connection): void;
  /** What viewers typed, as it reaches the agent (the native relay's keys included): for the recording. */
  inputReached(data: Buffer): void;
}

type Handlers = { readonly [T in ClientMessage['t']]: (hub: ViewerHub, c: Connection, m: Extract<ClientMessage, { t: T }>) => void };

/** What each message does once the hello is accepted (the table covers every message type). */
const HANDLERS: Handlers = {
  hello: (_hub, c) => c.fail('bad-message', 'hello was already received'),
  input: (hub, c, m) => hub.input(c, Buffer.from(m.data)),
  resize(hub, c, m) {
    if (!c.isViewer) return c.fail('bad-message', 'resize needs an attach connection');
    if (c.readOnly) return c.send({ t: 'error', code: 'read-only', message: 'read-only viewers cannot resize' });
    c.cols = m.cols;
    c.rows = m.rows;
    hub.applySize();
  },
  detach: (_hub, c) => c.end(),
  redraw(hub, c) {
    if (!c.isViewer) return c.fail('bad-message', 'redraw needs an attach connection');
    hub.redraw(c);
  },
  request: (hub, c, m) => hub.host.request(c, m.id, m.call, c.takeSlot()),
};

export class ViewerHub {
  readonly conns = new Set<Connection>();
  /** What all connections together may make the supervisor hold. */
  readonly intake = new Intake(() => this.conns);

  constructor(readonly host: HubHost) {}

  accept(socket: net.Socket): void {
    if (this.conns.size >= MAX_CONNECTIONS) {
      // Connections that say nothing must not lock everyone out: the oldest of them goes.
      const idle = [...this.conns].find((c) => c.awaitingHello);
      if (idle) {
        idle.fail('hello-required', `no hello yet, and the supervisor has ${MAX_CONNECTIONS} connections: dropped for a newer one`);
      } else {
        socket.end(encodeFrame({ t: 'error', code: 'internal', message: `too many connections (${MAX_CONNECTIONS})` }));
        socket.on('error', () => {});
        return;
      }
    }
    const conn = new Connection(
      socket,
      this.intake,
      (c, m) => this.message(c, m),
      (c) => this.closed(c),
    );
    this.conns.add(conn);
    const timer = setTimeout(() => {
      if (conn.state === 'handshake') conn.fail('hello-required', `no hello within ${HELLO_TIMEOUT_MS / 1000} s`);
    }, HELLO_TIMEOUT_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer)); // else it holds the connection until it fires
    socket.on('drain', () => this.drained(conn));
  }

  private message(c: Connection, m: ClientMessage): void {
    if (c.state === 'handshake') {
      if (m.t !== 'hello') return c.fail('hello-required', `the first message must be hello, got ${m.t}`);
      return this.hello(c, m);
    }
    (HANDLERS[m.t] as (hub: ViewerHub, c: Connection, m: ClientMessage) => void)(this, c, m);
  }

  private hello(c: Connection, m: Hello): void {
    if (m.protocol !== PROTOCOL_VERSION) {
      c.fail(
        'version-mismatch',
        `client speaks protocol ${m.protocol}, this supervisor speaks protocol ${PROTOCOL_VERSION}; use a symposium-mcp of the same version as the one that spawned the agent`,
      );
      return;
    }
    if (m.mode !== 'attach' || !m.terminal) return this.welcome(c, m, null);
    // An offered terminal is checked first (the kernel is asked who connected, a few ms);
    // the frames after the hello wait meanwhile.
    const handover = m.terminal;
    const resume = c.hold();
    void openPeerTerminal(this.host.nativeBinary(), c.socket, handover, this.host.agentTerminal()).then((proof) => {
      if (c.closed) {
        if ('fd' in proof) fs.closeSync(proof.fd);
      } else if ('fd' in proof) {
        const out = takeTerminal(this, c, handover, proof.fd);
        out.beforeRelease = () => this.host.releaseRelay(c);
        out.hintExpired = () => this.host.terminalLive(c); // the relay stepped aside for the hint's end
        this.welcome(c, m, out);
      } else {
        this.welcome(c, m, proof.refused);
      }
      resume();
    });
  }

  /** Accepts the hello: `terminal` is the viewer's taken terminal, or why it was refused. */
  private welcome(c: Connection, m: Hello, terminal: TerminalOutput | string | null): void {
    const host = this.host;
    c.state = m.mode;
    c.readOnly = m.readOnly;
    c.cols = m.readOnly ? null : m.cols;
    c.rows = m.readOnly ? null : m.rows;
    c.attachedAt = Date.now();
    if (m.mode === 'attach') c.out = terminal instanceof TerminalOutput ? terminal : new SocketOutput(c);
    c.send({
      t: 'welcome',
      protocol: PROTOCOL_VERSION,
      server: host.serverName,
      features: [...FEATURES],
      session: {
        id: host.id,
        supervisorPid: process.pid,
        agentPid: host.agentPid(),
        cols: host.screen.cols,
        rows: host.screen.rows,
        viewerId: c.id,
        readOnly: c.readOnly,
        terminal: c.terminal !== null,
        terminalError: typeof terminal === 'string' ? terminal : null,
      },
    });
    if (m.mode !== 'attach') return;
    if (host.ended) {
      // Attached after the end: show the final screen, then the exit.
      this.sendSnapshot(c, 'attach');
      return;
    }
    const changed = this.applySize();
    this.sendSnapshot(c, 'attach');
    // The replay is exact: at the same size the agent is left alone (a forced redraw
    // changes the screen: vim's message line, less's prompt went away). A new size makes
    // the agent redraw by itself (SIGWINCH), as under tmux. Asked for, it redraws anyway.
    if (!changed && m.redraw && c.canWrite) host.nudgeRedraw();
  }

  /**
   * Redraw on demand (the detach key, then r): the viewer is repainted from the screen at
   * once, then a writable viewer makes the agent redraw too (SIGWINCH, as a resize would).
   */
  redraw(c: Connection): void {
    if (!c.isViewer || !c.live || this.host.ended) return;
    this.sendSnapshot(c, 'resync');
    if (c.canWrite) this.host.nudgeRedraw();
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
    if (k.hadAnswers && c.isViewer) {
      // Only the answering viewer's answers reach the agent; what they say of its terminal
      // is how the supervisor answers later, while nobody is attached.
      if (answeringViewer(this.conns) !== c) out = k.withoutAnswers;
      else this.host.screen.learnTerminal(factsFromAnswers(data.toString('utf8')));
    }
    if (k.typed && c.isViewer) {
      // Typing makes a viewer the size owner (`latest`): nothing changes when it already was.
      const wasLatest = c.typedOrder > 0 && c.typedOrder === lastTypedOrder(this.conns);
      c.markTyped();
      if (!wasLatest) this.applySize();
    }
    // Modified keys in the form the agent asked for (the viewer's terminal may speak another).
    if (c.isViewer && !alreadyWritten) out = translateKeys(out, this.host.screen.keyMode());
    if (out.length === 0) return;
    this.host.inputReached(out);
    if (!alreadyWritten) this.host.writeToAgent(out, c);
  }

  private closed(c: Connection): void {
    this.conns.delete(c);
    this.host.connectionClosed(c);
    if (c.isViewer || c.cols !== null) this.applySize();
  }

  /** The viewer whose real terminal answers the agent's queries (null: the mirror answers). */
  answering(): Connection | null {
    return answeringViewer(this.conns);
  }

  /** When a viewer last typed a real key (0: never). */
  lastTypedAt(): number {
    let t = 0;
    for (const c of this.conns) if (c.typedAt > t) t = c.typedAt;
    return t;
  }

  /** Resizes the agent to what the size policy says; true when the size changed. */
  applySize(): boolean {
    const host = this.host;
    if (host.ended) return false;
    const size = chooseSize(host.sizePolicy, [...this.conns].filter((c) => !c.closed));
    if (!size || (size.cols === host.screen.cols && size.rows === host.screen.rows)) return false;
    host.resizeAgent(size.cols, size.rows);
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
    this.host.screen.snapshot((snap) => {
      if (c.closed || !c.out) return;
      c.out.replay(snap, reason);
      c.sentSeq = snap.after.length > 0 ? snap.after[snap.after.length - 1]!.seq : snap.seq;
      c.stale = false;
      c.live = true;
      if (reason === 'attach') this.host.viewerAttached(c);
      if (this.host.ended) this.sendExit(c);
      else this.host.terminalLive(c);
    }, reason === 'attach');
  }

  drained(c: Connection): void {
    if (!c.stale || c.closed || c.resyncTimer) return;
    // In a flood, a redraw at most every Flood.ResyncGapMs: each one has the mirror parse
    // up to that point, and the viewer could not take the stream anyway.
    const wait = c.resyncedAt + Flood.ResyncGapMs - Date.now();
    if (wait > 0 && this.host.screen.flooding) {
      c.resyncTimer = setTimeout(() => {
        c.resyncTimer = null;
        this.drained(c);
      }, wait);
      return;
    }
    c.resyncedAt = Date.now();
    this.sendSnapshot(c, 'resync');
  }

  /**
   * One chunk of output to every live viewer that keeps up, before the mirror sees it
   * (keystroke echo latency); `from`: a viewer whose terminal the native relay already
   * wrote it to. `seq` is the number the mirror will give it.
   */
  broadcast(data: Buffer, seq: number, from: Connection | null): void {
    const screen = this.host.screen;
    let frame: Buffer | null = null;
    const encoded = () => (frame ??= encodeFrame({ t: 'output', seq, data })); // once for all viewers
    let cprQueries = -1;
    for (const c of this.conns) {
      const out = c.out;
      if (!out || !c.live || c.stale) continue;
      if (c !== from && out.backlog > out.backlogLimit(screen.flooding, screen.cols, screen.rows)) {
        // Too far behind: stop feeding it; on 'drain' it gets a fresh snapshot instead.
        c.stale = true;
        continue;
      }
      // Cursor queries counted only when someone sees them.
      if (cprQueries < 0) cprQueries = countCprQueries(data);
      if (c !== from) out.output(data, encoded);
      else out.relayed(data); // the attach hint follows the stream it must not break
      c.sentSeq = seq;
      if (cprQueries > 0) c.cprAsked(cprQueries);
    }
  }

  /**
   * Chunk `seq` changed the agent's keyboard modes: every viewer whose terminal got that
   * chunk learns what now undoes them (one that fell behind before it keeps its own).
   */
  keyModesChanged(seq: number, leave: string): void {
    for (const c of this.conns) if (c.isViewer && c.out && c.sentSeq >= seq) c.out.leaveChanged(leave);
  }

  /** The agent has ended: every live viewer is told (one that fell behind gets the final screen first). */
  agentEnded(): void {
    for (const c of this.conns) {
      if (!c.isViewer || !c.live) continue;
      if (c.stale) this.sendSnapshot(c, 'resync');
      else this.sendExit(c);
    }
  }

  /** Terminals being let go at the end (their last output flushing). */
  readonly releasing: Array<Promise<void>> = [];

  private sendExit(c: Connection): void {
    const e = this.host.exitInfo;
    if (c.out) this.releasing.push(c.out.exit(e?.code ?? null, e?.signal ?? null, EXIT_FLUSH_MS));
  }
}

/** A handed-over terminal gets this long to take the agent's last output before the exit. */
const EXIT_FLUSH_MS = 1000;
