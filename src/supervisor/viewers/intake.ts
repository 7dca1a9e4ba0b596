import type { FrameBudget } from '../../protocol/framing';
import { Flood } from '../flood';

// What all connections of one supervisor may make it hold at once, beyond each one's own
// bounds (connection.ts): requests being answered, answers and output not yet taken, and
// large frames being received. A connection that would go past a bound waits (its socket
// is not read meanwhile), except a large frame past the supervisor's total, which is
// refused: waiting for it would hold its sender's bytes and hide the cause.

/** A connection as the intake sees it. */
export interface IntakeMember {
  /** Bytes written to its socket and not yet taken by the peer. */
  readonly socketBacklog: number;
  /** It waits for a request slot: handle its frames again. */
  resumeWork(): void;
}

export class Intake implements FrameBudget {
  /** Requests being answered, all connections together (waits excluded). */
  private busy = 0;
  /** Bytes of large frames being received, all connections together. */
  private largeFrames = 0;
  private readonly waiting = new Set<IntakeMember>();

  constructor(private readonly members: () => Iterable<IntakeMember>) {}

  /** Bytes written to every socket and not yet taken. */
  backlog(): number {
    let n = 0;
    for (const m of this.members()) n += m.socketBacklog;
    return n;
  }

  /** Whether the supervisor already holds too much unsent for a connection that owes its peer. */
  get overBacklog(): boolean {
    return this.backlog() > Flood.TotalBacklog;
  }

  /** A request may start now; else `m` is woken once one ends. */
  mayStart(m: IntakeMember): boolean {
    if (this.busy < Flood.RequestsInFlightTotal) return true;
    this.waiting.add(m);
    return false;
  }

  started(): void {
    this.busy++;
  }

  ended(): void {
    this.busy--;
    if (this.waiting.size === 0) return;
    const next = [...this.waiting];
    this.waiting.clear();
    for (const m of next) m.resumeWork();
  }

  forget(m: IntakeMember): void {
    this.waiting.delete(m);
  }

  /** Reserves room for a large frame of `bytes`; false when the supervisor holds too much already. */
  reserve(bytes: number): boolean {
    if (this.largeFrames + bytes > Flood.LargeFramesTotal) return false;
    this.largeFrames += bytes;
    return true;
  }

  release(bytes: number): void {
    this.largeFrames -= bytes;
  }

  /** Requests being answered now (for tests and the log). */
  get requestsBusy(): number {
    return this.busy;
  }
}
