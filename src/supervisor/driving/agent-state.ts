import type { AgentWord } from '../../agents/known-agents';
import type { StateName } from '../../protocol/events';
import { START_GRACE_MS } from '../../start-grace';

// What the agent is doing, as one state with the reason for it: the one source every front
// end shows (list, events, waits, the queue, the MCP server, the web page). docs/agents.md
// describes it for users. In order, the first rule that holds decides:
//
//   exited    the agent ended
//   its word  what the agent itself said last (its hooks, OSC 7501, its window title): it
//             holds until it says otherwise, except that `working` gives way once the
//             output has been quiet for the idle time (an interrupted turn fires no hook)
//   working   a job other than the agent is in its terminal's foreground (a shell running
//             `sleep 5` or `npm test`), silent or not
//   starting  nothing drawn yet, for up to START_GRACE_MS (then idle)
//   blocked   a notification or a bell (for an agent that notifies when a turn is done:
//             idle), then the output paused for NOTIFY_SETTLE_MS
//   idle      a prompt mark (OSC 133 A/B), then the output paused for NOTIFY_SETTLE_MS
//   working   a task was submitted less than the idle time ago (it may not have printed yet)
//   idle      the output quiet for the idle time
//   working   anything else: the output is flowing
//
// `unknown` is for backends that cannot tell (tmux).

export interface StateNow {
  state: StateName;
  /** Why, in a few words ("quiet for 2 s", "hook: Stop", "title: ✳ Ready", "exited with code 3"). */
  reason: string;
  /** ms since the epoch when it became this state. */
  since: number;
}

/**
 * Output must pause this long after a notification, a bell or a prompt mark for it to
 * count: the agent may go on printing right after (a bell inside a redraw).
 */
export const NOTIFY_SETTLE_MS = 150;
/** While a foreground job runs, how often we look whether it ended without output. */
export const FOREGROUND_POLL_MS = 500;

export interface StateHost {
  now(): number;
  readonly idleMs: number;
  /** ms the output has been quiet (since the start when there was none). */
  quietFor(): number;
  /** The agent has drawn something on its screen. */
  hadOutput(): boolean;
  /** The number of the last output chunk received. */
  latestSeq(): number;
  /** The terminal's foreground job when it is not the agent itself (a command name), else null. */
  foregroundJob(): string | null;
}

type Mark = { seq: number; text: string };

export class AgentState {
  private now_: StateNow;
  private word: { word: AgentWord; reason: string; at: number } | null = null;
  /** We pressed Enter on a task: working for an idle time, unless it says or shows otherwise sooner. */
  private submit: { reason: string; at: number } | null = null;
  /** A notification or bell, in chunk `seq`. */
  private notice: Mark | null = null;
  /** A prompt mark, in chunk `seq`. */
  private prompt: Mark | null = null;
  private ended: StateNow | null = null;
  private readonly startedAt: number;

  /**
   * @param noticeMeans what a notification says for this agent: a question (blocked), or,
   *   for an agent that notifies when its turn is done (Codex), idle
   */
  constructor(
    private readonly host: StateHost,
    private readonly onChange: (s: StateNow, before: StateNow) => void,
    private readonly noticeMeans: 'blocked' | 'idle' = 'blocked',
  ) {
    this.startedAt = host.now();
    this.now_ = { state: 'starting', reason: 'started', since: this.startedAt };
  }

  get current(): StateNow {
    return this.now_;
  }

  /** The agent's own word (its hooks, OSC 7501, its title). */
  agentSays(word: AgentWord, reason: string): void {
    this.word = { word, reason, at: this.host.now() };
    this.update();
  }

  /** We pressed Enter on a task: it is working until it says or shows otherwise. */
  submitted(reason: string): void {
    this.submit = { reason, at: this.host.now() };
    // Its own word and the marks of the previous turn no longer count.
    this.word = null;
    this.notice = null;
    this.prompt = null;
    this.update();
  }

  /** A notification or a bell in chunk `seq`. */
  noticed(seq: number, text: string): void {
    this.notice = { seq, text };
    this.update();
  }

  /** A prompt mark in chunk `seq`. */
  promptMark(seq: number): void {
    this.prompt = { seq, text: 'prompt mark' };
    this.update();
  }

  exited(reason: string): void {
    this.ended = { state: 'exited', reason, since: this.host.now() };
    this.update();
  }

  /** Looks again (after output, and when nextCheckMs says a threshold may have passed). */
  update(): void {
    if (this.ended && this.now_.state === 'exited') return;
    const next = this.decide(this.host.idleMs);
    if (next.state === this.now_.state && next.reason === this.now_.reason) return;
    const before = this.now_;
    this.now_ = { ...next, since: next.state === before.state ? before.since : this.host.now() };
    this.onChange(this.now_, before);
  }

  /** The state with another idle time (`wait --idle N`), without changing the current one. */
  stateWith(idleMs: number): StateName {
    return this.decide(idleMs).state;
  }

  /** ms until the state may change with nothing else happening (null: not by waiting). */
  nextCheckMs(idleMs = this.host.idleMs): number | null {
    if (this.ended) return null;
    const quiet = this.host.quietFor();
    const candidates: number[] = [idleMs - quiet];
    if (this.word?.word === 'working') candidates.push(idleMs - (this.host.now() - this.word.at));
    if (this.submit) candidates.push(idleMs - (this.host.now() - this.submit.at));
    if (this.valid(this.notice) || this.valid(this.prompt)) candidates.push(NOTIFY_SETTLE_MS - quiet);
    if (!this.host.hadOutput()) candidates.push(START_GRACE_MS - (this.host.now() - this.startedAt));
    const ms = Math.min(...candidates.filter((c) => c > 0));
    // A foreground job may end without output: look again while one runs.
    if (this.host.foregroundJob() !== null) return Math.min(ms, FOREGROUND_POLL_MS);
    return Number.isFinite(ms) ? ms : null;
  }

  /** A mark in the latest chunk (any later output cancels it). */
  private valid(m: Mark | null): m is Mark {
    return m !== null && m.seq === this.host.latestSeq();
  }

  private decide(idleMs: number): { state: StateName; reason: string } {
    if (this.ended) return this.ended;
    const quiet = this.host.quietFor();
    const w = this.word;
    // `working` holds for the idle time after it was said, however quiet the output was before.
    if (w && (w.word !== 'working' || Math.min(quiet, this.host.now() - w.at) < idleMs)) return { state: w.word, reason: w.reason };
    const job = this.host.foregroundJob();
    if (job !== null) return { state: 'working', reason: `${job} runs in the foreground` };
    if (!this.host.hadOutput()) {
      const age = this.host.now() - this.startedAt;
      if (age < START_GRACE_MS) return { state: 'starting', reason: 'nothing drawn yet' };
      return { state: 'idle', reason: `nothing drawn in ${formatSeconds(START_GRACE_MS)}` };
    }
    if (this.valid(this.notice) && quiet >= NOTIFY_SETTLE_MS) return { state: this.noticeMeans, reason: this.notice.text };
    if (this.valid(this.prompt) && quiet >= NOTIFY_SETTLE_MS) return { state: 'idle', reason: this.prompt.text };
    // A task just submitted: working for an idle time even if the agent has not printed yet.
    const s = this.submit;
    if (s && this.host.now() - s.at < idleMs) return { state: 'working', reason: s.reason };
    // The threshold, not the time so far: the reason must not change while nothing happens.
    if (quiet >= idleMs) return { state: 'idle', reason: `quiet for ${formatSeconds(idleMs)}` };
    return { state: 'working', reason: 'output' };
  }
}

function formatSeconds(ms: number): string {
  return `${Math.floor(ms / 100) / 10} s`;
}
