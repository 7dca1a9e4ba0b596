// The detach key, as both sides of an attach apply it (the attach client when it relays
// keys itself, the supervisor when it drives the viewer's terminal): pressed alone it
// detaches; pressed twice in a row it is sent to the agent once.

/** A lone detach key waits this long for a second press (which sends the key itself). */
export const DOUBLE_PRESS_MS = 300;

export class DetachKeyFilter {
  private pending: NodeJS.Timeout | null = null;
  private done = false;

  constructor(
    private readonly key: number,
    /** Keys for the agent, in order (never empty). */
    private readonly send: (data: Buffer) => void,
    private readonly detach: () => void,
  ) {}

  /** A lone press waits for a possible second one: the next keys must come here. */
  get waiting(): boolean {
    return this.pending !== null;
  }

  /** Keys as read from the terminal. */
  push(data: Buffer): void {
    if (this.done || data.length === 0) return;
    const key = this.key;
    let from = 0;
    if (this.pending) {
      clearTimeout(this.pending);
      this.pending = null;
      // Another key right after a lone press: that press was a detach.
      if (data[0] !== key) return this.detachNow();
      // Second press: the key itself goes to the agent.
      this.send(Buffer.from([key]));
      from = 1;
    }
    for (let i = from; i < data.length; i++) {
      if (data[i] !== key) continue;
      this.emit(data.subarray(from, i));
      from = i + 1;
      if (i + 1 < data.length) {
        if (data[i + 1] === key) {
          this.send(Buffer.from([key]));
          i++;
          from = i + 1;
          continue;
        }
        return this.detachNow();
      }
      this.pending = setTimeout(() => {
        this.pending = null;
        this.detachNow();
      }, DOUBLE_PRESS_MS);
      return;
    }
    this.emit(data.subarray(from));
  }

  cancel(): void {
    this.done = true;
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
  }

  private emit(data: Buffer): void {
    if (data.length > 0) this.send(data);
  }

  private detachNow(): void {
    this.cancel();
    this.detach();
  }
}
