import type { Connection } from '../viewers/connection';
import { FastRelay, type RelayEnd } from './fast-relay';
import { log } from '../lifecycle/log';
import { Flood, RateSample } from '../flood';
import { type HelperHost, HelperFailures } from './native-helpers';

// When the native key relay (fast-relay.ts) runs, and for whom. It serves one viewer at a
// time: one whose terminal was handed over, that may type, and is fully caught up, while
// the agent is not flooding. Everything else (floods, a terminal that cannot keep up,
// the detach key, escape sequences, other viewers) stays with the supervisor's own path;
// the relay steps aside for it and is started again once things are calm.

/** How long output must be calm before the relay (re)starts. */
const CALM_RETRY_MS: number = Flood.CalmCheckMs;
/** A terminal still taking its snapshot (or other queued output) is asked again this soon… */
const BACKLOG_RETRY_MS = 5;
/** …this many times in a row; a terminal that stays behind is then asked only when calm. */
const BACKLOG_RETRIES = 20;
/** How often the keys the relay left to us are checked for being done with. */
const DIRECT_CHECK_MS = 20;

export interface RelayHost extends HelperHost {
  readonly conns: Set<Connection>;
  /** Output the relay already wrote to `from`'s terminal: for the mirror and the others. */
  output(data: Buffer, from: Connection): void;
  /** Keys the relay wrote to the agent for `c` (bookkeeping only). */
  input(c: Connection, data: Buffer, alreadyWritten: boolean): void;
  /** Input for the agent that it has not read yet. */
  readonly inputBacklog: number;
}

export class RelayPolicy {
  private relay: FastRelay | null = null;
  private owner: Connection | null = null;
  private rest: Buffer | null = null;
  private releasing = false;
  private directTimer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  /** Bytes the relay carried, for the log. */
  private carried = 0;
  private backlogTries = 0;
  private readonly failures = new HelperFailures();
  /** The output count when a retry was scheduled, and when: to measure the rate since. */
  private sample: RateSample | null = null;

  constructor(private readonly host: RelayHost) {}

  /** Starts the relay for `c` if it may run now; else tries again once calm. */
  consider(c: Connection): void {
    if (!this.host.relayBinary || this.failures.givenUp || this.relay || !this.eligible(c)) return;
    const h = this.host;
    const wait = this.failures.wait;
    if (wait > 0) return this.later(wait);
    // The flood pump may hold the master (it stops once calm).
    // Nor while the agent has input it did not read: keys then wait in the terminal (hub.ts).
    if (h.screen.flooding || h.agent.isPaused || h.agent.readsHalted || h.inputBacklog > 0 || this.busy()) return this.later();
    if ((c.terminal?.backlog ?? 1) > 0) return this.later(this.backlogTries++ < BACKLOG_RETRIES ? BACKLOG_RETRY_MS : CALM_RETRY_MS);
    this.backlogTries = 0;
    const t = c.terminal!;
    const master = h.agent.masterFd;
    if (master === null) return;
    if (!t.haltReads()) return this.later();
    if (!h.agent.haltReads()) {
      t.resumeReads();
      return this.later();
    }
    this.owner = c;
    this.rest = null;
    this.releasing = false;
    this.carried = 0;
    try {
      this.relay = new FastRelay(this.host.relayBinary, t.descriptor, master, t.detachKey, {
        output: (d) => this.output(c, d),
        typed: (d) => h.input(c, d, true),
        keys: (d) => this.keys(c, d),
        rest: (d) => {
          this.rest = d;
        },
        ended: (why) => this.ended(c, why),
      });
      log(`native relay for viewer ${c.id} started (pid ${this.relay.pid ?? '?'})`);
    } catch (err) {
      log(`native relay not started: ${(err as Error).message}`);
      this.owner = null;
      h.agent.resumeReads();
      t.resumeReads();
      this.failed();
    }
  }

  /** Stops the relay before `c`'s terminal is let go (a no-op when `c` does not own it). */
  releaseFor(c: Connection): Promise<void> | null {
    if (this.owner !== c || !this.relay) return null;
    this.releasing = true;
    return this.relay.stop();
  }

  /** A viewer left: another one may now get the relay. */
  viewerLeft(): void {
    this.considerAll();
  }

  private considerAll(): void {
    for (const c of this.host.conns) {
      if (this.relay) return;
      if (c.terminal) this.consider(c);
    }
  }

  private eligible(c: Connection): boolean {
    return !this.host.ended && !c.closed && c.isViewer && c.live && !c.stale && !c.readOnly && c.terminal !== null && !c.terminal.isReleased && !c.terminal.reserved;
  }

  /** The output was not calm since the last retry was scheduled (≥ 100 ms ago). */
  private busy(): boolean {
    const s = this.sample;
    return s !== null && s.age() >= 100 && s.busy;
  }

  /** Asks again later, for every viewer with a terminal (whoever is eligible by then). */
  private later(ms = CALM_RETRY_MS): void {
    if (this.retry) return;
    this.sample = new RateSample(() => this.host.bytesIn);
    this.retry = setTimeout(() => {
      this.retry = null;
      this.considerAll();
    }, ms);
  }

  private output(c: Connection, d: Buffer): void {
    this.carried += d.length;
    const h = this.host;
    h.agent.noteData();
    h.output(d, c);
    // A flood is the supervisor's business (it skips what no one can read): step aside.
    if (h.screen.flooding || h.agent.isPaused) void this.relay?.stop();
  }

  private keys(c: Connection, d: Buffer): void {
    c.terminal?.onInput(d);
    // The agent does not read its input: the keys wait in the terminal, which only we can hold.
    if (this.host.inputBacklog > Flood.AgentInputBytes) void this.relay?.stop();
    if (this.directTimer) return;
    // Keys go straight to the agent again once ours have left: no detach key waiting for
    // its second press, nothing queued for the agent.
    const check = () => {
      this.directTimer = null;
      const relay = this.relay;
      if (!relay || this.owner !== c) return;
      if (c.terminal?.keysWaiting() || this.host.agent.writesQueued > 0) {
        this.directTimer = setTimeout(check, DIRECT_CHECK_MS);
        return;
      }
      relay.allowDirectKeys();
    };
    this.directTimer = setTimeout(check, 0);
  }

  private ended(c: Connection, why: RelayEnd): void {
    const relay = this.relay;
    if (this.directTimer) clearTimeout(this.directTimer);
    this.directTimer = null;
    this.relay = null;
    this.owner = null;
    const t = c.terminal;
    // What the terminal had not taken yet goes first, through our own queue.
    if (this.rest && t && !t.isReleased) t.write(this.rest);
    this.rest = null;
    this.host.agent.resumeReads();
    const how = (why === 'crashed' ? `, ${relay?.exitStatus || 'not started'}` : '') + (relay?.ctlError ? `, socket error ${relay.ctlError}` : '');
    log(`native relay for viewer ${c.id} ended (${why}${how}) after ${this.carried} bytes`);
    if (why === 'hangup') {
      t?.onGone();
      return;
    }
    if (t && !this.releasing) t.resumeReads();
    if (why === 'crashed' || why === 'internal') this.failed();
    else if (!this.releasing && why !== 'agent-eof') this.later();
  }

  private failed(): void {
    const backoff = this.failures.failed();
    if (backoff === null) log(`native relay failed ${this.failures.times} times: keys go through the supervisor from now on`);
    else this.later(backoff);
  }
}
