import { Typing } from './driving/typing';
import { Flood } from './flood';
import type { AgentProcess } from './lifecycle/agent-process';
import type { Screen } from './mirror/screen';
import type { RecordingSink } from './recording/recorder';
import type { Connection } from './viewers/connection';

// Input for the agent from this process: the keys of viewers (hub.ts passes them on) and
// what `send` and the queue type (typing.ts). The agent reads it at its own pace: the bytes
// wait in lifecycle/agent-input.ts, and past Flood.AgentInputBytes not read, the writers
// wait too: a connection's next keys and frames, `send` (refused, requests.ts) and the
// queue (delivery.ts).

/** While a writer waits for the agent to read its input, how often that is checked. */
const INPUT_CHECK_MS = 50;

export interface InputHost {
  readonly agent: AgentProcess;
  readonly screen: Screen;
  readonly recording: RecordingSink;
  /** Everyone connected. */
  readonly conns: Set<Connection>;
  readonly ended: boolean;
  /** The queue's delivery, which waits while the agent does not read. */
  readonly delivery: { schedule(): void };
}

export class InputPath {
  private readonly typing: Typing;
  private watch: NodeJS.Timeout | null = null;

  constructor(private readonly host: InputHost) {
    // What `send` and the queue type goes on the record too (when input is recorded).
    const typist = {
      write: (data: Buffer) => {
        host.recording.input(data);
        host.agent.write(data);
      },
    };
    this.typing = new Typing(
      () => typist,
      () => host.screen.bracketedPaste,
    );
  }

  /** Input written or accepted for the agent that it has not read yet. */
  get backlog(): number {
    return this.host.agent.inputWaiting + this.typing.pendingBytes;
  }

  /**
   * Keys or input of a connection for the agent: past Flood.AgentInputBytes not read by
   * it, that connection's next keys and frames wait until the agent has read all but
   * Flood.AgentInputLowWater (checked every INPUT_CHECK_MS while someone waits).
   */
  writeFor(from: Connection, data: Buffer): void {
    this.host.agent.write(data);
    if (this.backlog <= Flood.AgentInputBytes) return;
    from.waitForAgentInput();
    if (this.watch) return;
    this.watch = setInterval(() => {
      if (this.backlog > Flood.AgentInputLowWater && !this.host.ended) return;
      clearInterval(this.watch!);
      this.watch = null;
      for (const c of this.host.conns) c.agentInputDrained();
      this.host.delivery.schedule();
    }, INPUT_CHECK_MS);
  }

  /** Types for `send` and the queue, in order (see typing.ts). */
  type(parts: Array<{ data: Buffer; paste: boolean }>): Promise<void> {
    return this.typing.type(parts);
  }
}
