import type { Activity } from './driving/activity';
import type { TaskDelivery } from './driving/delivery';
import type { SessionState } from './driving/session-state';
import { PROBE_ANSWER, StateProbe } from './driving/state-probe';
import type { Waits } from './driving/waits';
import { Flood } from './flood';
import type { AgentProcess } from './lifecycle/agent-process';
import type { Screen } from './mirror/screen';
import type { FloodPump } from './native/flood-pump';
import type { RecordingSink } from './recording/recorder';
import type { StatusPublisher } from './status/publisher';
import type { Connection } from './viewers/connection';
import type { ViewerHub } from './viewers/hub';
import type { WarmUp } from './warm-up';

// Where each chunk of the agent's output goes: to the viewers, on the record, into the
// mirror, and as a sign of activity to those who watch for it; and the mirror's progress
// in parsing it, which lifts our backpressure on the agent. Every chunk passes here (it is
// measured against tmux): nothing is allocated per chunk, and each part is a field of its
// own.

/** The parts a chunk reaches, taken once. */
export interface OutputHost {
  readonly agent: AgentProcess;
  readonly screen: Screen;
  readonly viewers: ViewerHub;
  readonly recording: RecordingSink;
  readonly pump: FloodPump;
  readonly activity: Activity;
  readonly published: StatusPublisher;
  readonly session: SessionState;
  readonly delivery: TaskDelivery;
  readonly waits: Waits;
  readonly warmUp: WarmUp;
}

export class OutputPath {
  /** Bytes of output the agent wrote so far. */
  bytesIn = 0;
  private readonly probe = new StateProbe();
  private readonly agent: AgentProcess;
  private readonly screen: Screen;
  private readonly viewers: ViewerHub;
  private readonly recording: RecordingSink;
  private readonly pump: FloodPump;
  private readonly activity: Activity;
  private readonly published: StatusPublisher;
  private readonly session: SessionState;
  private readonly delivery: TaskDelivery;
  private readonly waits: Waits;
  private readonly warmUp: WarmUp;

  constructor(host: OutputHost) {
    this.agent = host.agent;
    this.screen = host.screen;
    this.viewers = host.viewers;
    this.recording = host.recording;
    this.pump = host.pump;
    this.activity = host.activity;
    this.published = host.published;
    this.session = host.session;
    this.delivery = host.delivery;
    this.waits = host.waits;
    this.warmUp = host.warmUp;
  }

  /** Agent output; `from`: a viewer whose terminal the native relay already wrote it to. */
  output(data: Buffer, from: Connection | null = null): void {
    this.bytesIn += data.length;
    // Claude Code's state probe is answered before anyone else's DA1 answer (state-probe.ts).
    for (let n = this.probe.scan(data); n > 0; n--) this.agent.write(PROBE_ANSWER);
    // Viewers first (keystroke echo latency), the mirror after: the chunk gets the next
    // sequence number either way, and a viewer not yet live gets it with its snapshot.
    this.viewers.broadcast(data, this.screen.seq + 1, from);
    // Recorded before the mirror has it: a part's first screen then never holds a chunk
    // that part also records (recording/rotation.ts).
    this.recording.output(data);
    this.screen.write(data);
    if (this.screen.unparsedBytes > Flood.ParseHighWater) this.agent.pause();
    if (from === null) this.pump.consider();
    this.activity.output();
    this.published.output(this.activity.lastOutputAt);
    this.session.output();
    this.delivery.output();
    this.warmUp.soon();
  }

  /** The mirror parsed more of the output. */
  parsed(): void {
    if (this.screen.unparsedBytes < Flood.ParseLowWater) this.agent.resume();
    if (!this.activity.hasDrawn && this.screen.hasContent()) {
      this.activity.drew();
      this.session.output(); // no longer starting: the state may change sooner now
    }
    this.waits.screenChanged();
  }
}
