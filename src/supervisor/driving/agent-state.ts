import type { AgentWord } from '../../agents/known-agents';

// What the agent is doing, as one state with the reason for it: the one source every front
// end shows (list, events, waits, the MCP server, the web page). Where the agent says it
// (its hooks, OSC 7501, its window title) its word counts; where it does not, the generic
// rules decide: before any output it is starting; a job other than the agent in the
// terminal's foreground (a shell running `npm test`) is working, silent or not; a
// notification or a bell with the output then quiet is a question (blocked); quiet output
// for the idle time is idle; anything else is working.

export type StateName = 'starting' | 'working' | 'idle' | 'blocked' | 'exited' | 'unknown';

export interface StateNow {
  state: StateName;
  /** Why, in a few words ("quiet for 2 s", "hook: Stop", "title: ✳ Ready", "exited with code 3"). */
  reason: string;
  /** ms since the epoch when it became this state. */
  since: number;
}

/** Output must pause this long after a notification or a bell for it to count as a question. */
export const NOTIFY_SETTLE_MS = 150;
/**
 * Without any output, a program still counts as idle once this long has passed: a silent
 * program waiting for input (cat) must not stay "starting" for ever.
 */
export const START_GRACE_MS = 10_000;

export interface StateHost {
  now(): number;
  readonly idleMs: number;
  /** ms the output has been quiet (since the start when there was none). */
  quietFor(): number;
  /** The agent printed something at least once. */
  hadOutput(): boolean;
  /** The terminal's foreground job, when it is not the agent itself (a command name), else null. */
  foregroundJob(): string | null;
}

type Word = { word: AgentWord; reason: string; at: number };

export class AgentState {
  private now_: StateNow;
  private word: Word | null = null;
  /** A notification or bell in the latest output, with its text. */
  private notice: { text: string; at: number } | null = null;
  private ended: StateNow | null = null;
  private readonly startedAt: number;

  constructor(
    private readonly host: StateHost,
    private readonly onChange: (s: StateNow, before: StateNow) => void,
  ) {
    this.startedAt = host.now();
    this.now_ = { state: 'starting', reason: 'started', since: this.startedAt };
  }

  get current(): StateNow {
    return this.now_;
  }

  /**
   * The agent's own word (its hooks, OSC 7501, its title). It holds until the agent says
   * otherwise; `working` also gives way once the output has been quiet for the idle time
   * (an interrupted turn fires no hook).
   */
  agentSays(word: AgentWord, reason: string): void {
    this.word = { word, reason, at: this.host.now() };
    if (word !== 'blocked') this.notice = null;
    this.update();
  }

  /** We typed a task and its Enter: the agent goes to work whatever it said before. */
  submitted(reason: string): void {
    this.word = { word: 'working', reason, at: this.host.now() };
    this.notice = null;
    this.update();
  }

  /** Output arrived. A notice (bell, OSC 9/777/99) in it is remembered with its text. */
  output(notice: string | null = null): void {
    this.notice = notice === null ? null : { text: notice, at: this.host.now() };
    this.update();
  }

  exited(reason: string): void {
    this.ended = { state: 'exited', reason, since: this.host.now() };
    this.update();
  }

  /** Looks again (the supervisor calls it when a threshold may have passed). */
  update(): void {
    const next = this.decide();
    if (next.state === this.now_.state && next.reason === this.now_.reason) return;
    const before = this.now_;
    this.now_ = next.state === before.state ? { ...next, since: before.since } : next;
    this.onChange(this.now_, before);
  }

  /** ms until the state may change with nothing else happening (null: not by waiting). */
  nextCheckMs(): number | null {
    if (this.ended) return null;
    const quiet = this.host.quietFor();
    const idle = this.host.idleMs - quiet;
    const settle = this.notice ? NOTIFY_SETTLE_MS - quiet : Infinity;
    const grace = this.host.hadOutput() ? Infinity : START_GRACE_MS - (this.host.now() - this.startedAt);
    const ms = Math.min(idle > 0 ? idle : Infinity, settle > 0 ? settle : Infinity, grace > 0 ? grace : Infinity);
    // A foreground job ends without output sometimes: look again while one runs.
    if (!Number.isFinite(ms)) return this.now_.state === 'working' ? 1000 : null;
    return ms;
  }

  private decide(): { state: StateName; reason: string; since: number } {
    const now = this.host.now();
    if (this.ended) return this.ended;
    const quiet = this.host.quietFor();
    const w = this.word;
    if (w && (w.word !== 'working' || quiet < this.host.idleMs)) return { state: w.word, reason: w.reason, since: now };
    const job = this.host.foregroundJob();
    if (job !== null) return { state: 'working', reason: `${job} runs in the foreground`, since: now };
    if (!this.host.hadOutput()) {
      if (now - this.startedAt < START_GRACE_MS) return { state: 'starting', reason: 'no output yet', since: now };
      return { state: 'idle', reason: `no output in ${Math.round((now - this.startedAt) / 1000)} s`, since: now };
    }
    if (this.notice && quiet >= NOTIFY_SETTLE_MS) return { state: 'blocked', reason: this.notice.text, since: now };
    if (quiet >= this.host.idleMs) return { state: 'idle', reason: `quiet for ${Math.round(quiet / 100) / 10} s`, since: now };
    if (w) return { state: 'working', reason: w.reason, since: now };
    return { state: 'working', reason: 'output', since: now };
  }
}
