import { FastRelay, type RelayEnd } from './fast-relay';
import { log } from '../lifecycle/log';
import { Flood, RateSample } from '../flood';
import { type HelperHost, HelperFailures } from './native-helpers';

// When the flood pump runs. During a flood, this process reads the pty ~4 KB per wake-up
// and parses in between, and the agent waits on a full pty each time: the flood runs at
// the pace of our event loop. The pump (relay.c with no terminal) reads the pty in a tight
// C loop and buffers while we are busy, so we take the output in large socket reads. It
// starts when the mirror sees a flood and the master is ours to hand over (the key relay
// steps aside in a flood), and stops once the output is calm again; keys and everything
// else stay on the supervisor's usual paths meanwhile.

/** The supervisor, as the pump sees it. */
export interface PumpHost extends HelperHost {
  /** Output the pump read from the agent. */
  output(data: Buffer): void;
}

export class FloodPump {
  private pump: FastRelay | null = null;
  private calmTimer: NodeJS.Timeout | null = null;
  private readonly failures = new HelperFailures();
  private carried = 0;

  constructor(private readonly host: PumpHost) {}

  get running(): boolean {
    return this.pump !== null;
  }

  /** On output read the usual way: starts the pump when the output floods. */
  consider(): void {
    if (this.pump || !this.host.relayBinary || this.failures.givenUp) return;
    const h = this.host;
    if (h.ended || !h.screen.flooding || this.failures.wait > 0) return;
    const master = h.agent.masterFd;
    if (master === null) return;
    // Our pause() and resume() reach the pump while it reads (backpressure for the mirror).
    const reader = {
      pauseReading: () => this.pump?.pauseReading(),
      resumeReading: () => this.pump?.resumeReading(),
    };
    if (!h.agent.haltReads(reader)) return;
    this.carried = 0;
    try {
      const pump = new FastRelay(this.host.relayBinary, null, master, null, {
        output: (d) => this.output(d),
        typed: () => {},
        keys: () => {},
        rest: () => {},
        ended: (why) => this.ended(pump, why),
      });
      this.pump = pump;
      log(`flood pump started (pid ${pump.pid ?? '?'})`);
    } catch (err) {
      log(`flood pump not started: ${(err as Error).message}`);
      h.agent.resumeReads();
      this.failed();
      return;
    }
    this.watchCalm();
  }

  private output(d: Buffer): void {
    this.carried += d.length;
    this.host.agent.noteData();
    this.host.output(d);
  }

  /** Stops the pump once a check finds the output calm (and not held back by us). */
  private watchCalm(): void {
    const sample = new RateSample(() => this.host.bytesIn);
    const check = () => {
      this.calmTimer = null;
      const pump = this.pump;
      if (!pump) return;
      const busy = sample.bytesPerSecond() >= Flood.CalmBytesPerSecond;
      sample.reset();
      // Paused, the output is slow because of us: the flood is not over.
      if (busy || this.host.agent.isPaused) {
        this.calmTimer = setTimeout(check, Flood.CalmCheckMs);
        return;
      }
      void pump.stop();
    };
    this.calmTimer = setTimeout(check, Flood.CalmCheckMs);
  }

  private ended(pump: FastRelay, why: RelayEnd): void {
    if (this.calmTimer) clearTimeout(this.calmTimer);
    this.calmTimer = null;
    this.pump = null;
    // Every frame it sent has been handled: our own reads take over, in order.
    this.host.agent.resumeReads();
    const how = (why === 'crashed' ? `, ${pump.exitStatus || 'not started'}` : '') + (pump.ctlError ? `, socket error ${pump.ctlError}` : '');
    log(`flood pump ended (${why}${how}) after ${this.carried} bytes`);
    if (why === 'crashed' || why === 'internal') this.failed();
  }

  private failed(): void {
    if (this.failures.failed() === null) log(`flood pump failed ${this.failures.times} times: this supervisor reads floods itself from now on`);
  }
}
