import { KEY_GAP_MS } from '../../keys/gap';
import type { AgentProcess } from '../lifecycle/agent-process';

// Typing into the agent on behalf of `send` and the task queue (viewers' keys go straight
// to the agent, see ../input-path.ts).

export class Typing {
  /** The end of the typing in progress. */
  private last: Promise<void> = Promise.resolve();
  /** Bytes accepted for typing and not yet written for the agent (they count as its input). */
  pendingBytes = 0;

  constructor(
    /** The agent's pty, or what writes to it (the supervisor records what is typed on the way). */
    private readonly agent: () => Pick<AgentProcess, 'write'>,
    /** Whether the agent turned bracketed paste on. */
    private readonly bracketedPaste: () => boolean,
  ) {}

  /**
   * Types parts in order, each as its own write, KEY_GAP_MS apart: agents that read a
   * paste as one event must see it end before the key that submits it. Sequences from
   * different requests (and queue deliveries) run one after another, never interleaved.
   */
  type(parts: Array<{ data: Buffer; paste: boolean }>): Promise<void> {
    this.pendingBytes += parts.reduce((n, p) => n + p.data.length, 0);
    const run = async () => {
      let first = true;
      for (const p of parts) {
        if (p.data.length === 0) continue;
        if (!first) await new Promise((r) => setTimeout(r, KEY_GAP_MS));
        first = false;
        this.pendingBytes -= p.data.length;
        this.typeText(p.data, p.paste);
      }
    };
    const next = this.last.then(run, run);
    this.last = next;
    return next;
  }

  /** Types text: one bracketed paste when the agent enabled it, else plain bytes. */
  private typeText(data: Buffer, paste: boolean): void {
    const agent = this.agent();
    if (paste && this.bracketedPaste()) {
      // A paste must not be able to end itself early.
      const clean = Buffer.from(data.toString('utf8').replaceAll('\x1b[201~', ''), 'utf8');
      agent.write(Buffer.concat([Buffer.from('\x1b[200~'), clean, Buffer.from('\x1b[201~')]));
      return;
    }
    // What the terminal does not take now waits in order (agent-input.ts); 4 KiB pieces
    // keep each write within one canonical-mode line buffer.
    for (let i = 0; i < data.length; i += 4096) agent.write(data.subarray(i, i + 4096));
  }
}
