import { type AgentWord, type KnownAgent, titleWord } from '../../agents/known-agents';
import type { SessionEventBody, StateName } from '../../protocol/events';
import type { EventsArgs, EventsReply, SignalArgs, SignalReply } from '../../protocol/ops';
import { EventsFileWriter, nextSeqIn } from '../../store/events-file';
import type { SessionHooks } from '../../store/session-dir';
import { log } from '../lifecycle/log';
import type { AgentSignal } from '../mirror/agent-signals';
import { AgentState, type StateNow } from './agent-state';
import { EventJournal } from './events';
import { ForegroundJob } from './foreground';
import { UserHooks } from './user-hooks';

// What the agent is doing and what happened to the session, kept in one place: the state
// (agent-state.ts) fed with the output's timing, the agent's signals and hooks and its
// terminal's foreground job; the event journal (events.ts, events.jsonl); the user's hooks
// on idle, blocked and exit. The supervisor tells it what happens; everyone who shows or
// waits for a state asks it.

/** Event long polls waiting at once, at most (past it, an `events` request answers at once): as for waits. */
export const MAX_EVENT_POLLS = 256;

/**
 * A bell this soon after a key typed in a viewer answers that key (a shell's failed tab
 * completion), not the agent asking for attention: a round trip to a local shell and
 * back takes a few ms, a person's next key hundreds.
 */
export const BELL_AFTER_KEY_MS = 300;

/** A question on screen that an `attention` hook (aider's, which says no more) means. */
const QUESTION = /\((?:y|Y)(?:es)?\/(?:n|N)(?:o)?\)|\[(?:y|Y)\/(?:n|N)\]|\(Y\)es\/\(N\)o/;

export interface SessionStateHost {
  readonly id: string;
  readonly idleMs: number;
  readonly known: KnownAgent | null;
  readonly eventsFile: string;
  readonly workdir: string;
  readonly hooks: SessionHooks | null;
  /** ms the output has been quiet (since the start when there was none). */
  quietFor(): number;
  /** The agent has drawn something. */
  hadOutput(): boolean;
  /** The number of the last output chunk received. */
  latestSeq(): number;
  /** The agent's pid (null before it runs). */
  agentPid(): number | null;
  /** The visible screen's text (an `attention` hook looks for a question). */
  visibleText(): string;
  /** When a viewer last typed a real key (0: never). */
  lastTypedAt(): number;
}

export class SessionState {
  private readonly state: AgentState;
  private readonly foreground: ForegroundJob;
  private readonly journal: EventJournal;
  private readonly file: EventsFileWriter;
  private readonly userHooks: UserHooks | null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private listeners: Array<(now: StateNow, before: StateNow) => void> = [];
  private polls = 0;
  /** Long polls by connection, ended when it closes. */
  private readonly pollsOf = new Map<object, Set<() => void>>();
  /** The last notification's text (for the hooks' SYMPOSIUM_NOTIFICATION). */
  private lastNotification: string | null = null;

  constructor(private readonly host: SessionStateHost) {
    this.foreground = new ForegroundJob(() => host.agentPid());
    this.file = new EventsFileWriter(host.eventsFile, (err) => log(`events.jsonl not written: ${err.message}`));
    this.journal = new EventJournal(nextSeqIn(host.eventsFile), (e) => this.file.append(e));
    this.userHooks = host.hooks && (host.hooks.onIdle || host.hooks.onBlocked || host.hooks.onExit) ? new UserHooks(host.hooks, host.workdir) : null;
    this.state = new AgentState(
      {
        now: Date.now,
        idleMs: host.idleMs,
        quietFor: () => host.quietFor(),
        hadOutput: () => host.hadOutput(),
        latestSeq: () => host.latestSeq(),
        foregroundJob: () => this.foreground.current(),
      },
      (now, before) => this.changed(now, before),
      host.known?.notifiesOnDone ? 'idle' : 'blocked',
    );
  }

  get current(): StateNow {
    return this.state.current;
  }

  /** Called with every change of state, after the event is written. */
  onChange(cb: (now: StateNow, before: StateNow) => void): void {
    this.listeners.push(cb);
  }

  /** An event for the journal (viewers, resizes, tasks, the start). */
  event(body: SessionEventBody): void {
    this.journal.add(body);
  }

  /** The agent runs: the clock starts (a program that never prints turns idle when its start grace ends). */
  started(): void {
    this.arm();
  }

  /** After each output chunk: working at once if it was not. */
  output(): void {
    if (this.state.current.state !== 'working') this.state.update();
    // Output only moves thresholds later: an armed timer fires early and re-arms, so a
    // flood costs a comparison per chunk, not a look at every threshold.
    if (!this.timer) this.arm();
  }

  /** What the agent said in its output (agent-signals.ts), in chunk `seq`. */
  signal(s: AgentSignal, seq: number): void {
    switch (s.kind) {
      case 'bell':
        if (Date.now() - this.host.lastTypedAt() > BELL_AFTER_KEY_MS) this.state.noticed(seq, 'bell');
        break;
      case 'notification':
        this.notified(s.text, 'notification');
        this.state.noticed(seq, `notification: ${s.text}`);
        break;
      case 'prompt':
        this.state.promptMark(seq);
        break;
      case 'agent-state':
        if (s.text && s.word === 'blocked') this.notified(s.text, 'OSC 7501');
        else if (s.text && s.word === 'idle') this.lastNotification = s.text;
        this.state.agentSays(s.word, `OSC 7501: ${s.word}${s.text && s.word === 'blocked' ? `: ${s.text}` : ''}`);
        break;
      case 'title': {
        const word = titleWord(this.host.known, s.title);
        if (word) this.state.agentSays(word, `title: ${s.title.slice(0, 80)}`);
        break;
      }
    }
    this.arm();
  }

  /** The `signal` request: an agent's hook, or any program in the session. */
  hook(args: SignalArgs): SignalReply {
    let word: AgentWord;
    if (args.word === 'attention') word = QUESTION.test(this.host.visibleText()) ? 'blocked' : 'idle';
    else word = args.word;
    // A question is a notification; the last words of a turn only go to the hooks (SYMPOSIUM_NOTIFICATION).
    if (args.text && word === 'blocked') this.notified(args.text, args.source);
    else if (args.text && word === 'idle') this.lastNotification = args.text;
    // What it asks belongs in the reason; the last words of a turn do not (they go to the hooks).
    this.state.agentSays(word, `${args.source}${args.text && word === 'blocked' ? `: ${args.text.slice(0, 200)}` : ''}`);
    this.arm();
    const s = this.state.current;
    return { state: s.state, reason: s.reason };
  }

  /** We pressed Enter on task `index`: working until it says or shows otherwise. */
  submitted(index: number): void {
    this.state.submitted(`task ${index} submitted`);
    this.arm();
  }

  exited(code: number | null, signal: string | null, reason: string): void {
    this.state.exited(reason);
    this.journal.add({ type: 'exited', code, signal, reason });
    this.userHooks?.fire('exit', { ...this.facts(), exitCode: code, exitSignal: signal });
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The state for another idle time (`wait --idle N`), without changing the current one. */
  stateWith(idleMs: number): StateName {
    return this.state.stateWith(idleMs);
  }

  /** ms until the state may change with nothing else happening (null: not by waiting). */
  nextCheckMs(idleMs?: number): number | null {
    return this.state.nextCheckMs(idleMs);
  }

  /** The `events` request: what is held after `since`, waiting up to `waitMs` when nothing is. */
  async read(args: EventsArgs, owner: object): Promise<EventsReply> {
    let r = this.journal.read(args.since, args.limit);
    if (r.events.length > 0 || args.waitMs === 0 || r.lost > 0 || this.polls >= MAX_EVENT_POLLS) return r;
    const poll = this.journal.nextEvent(args.waitMs);
    this.polls++;
    const mine = this.pollsOf.get(owner) ?? new Set<() => void>();
    mine.add(poll.cancel);
    this.pollsOf.set(owner, mine);
    let why;
    try {
      why = await poll.done;
    } finally {
      this.polls--;
      mine.delete(poll.cancel);
      if (mine.size === 0) this.pollsOf.delete(owner);
    }
    if (why === 'cancelled') return r; // its connection is gone
    r = this.journal.read(args.since, args.limit);
    return r;
  }

  /** The connection is gone: its long polls end now, unanswered. */
  ownerGone(owner: object): void {
    for (const cancel of [...(this.pollsOf.get(owner) ?? [])]) cancel();
  }

  /** Resolves once the user's hooks have ended (the supervisor waits for them before it exits). */
  settled(): Promise<void> {
    this.file.close();
    return this.userHooks?.settled() ?? Promise.resolve();
  }

  private notified(text: string, source: string): void {
    this.lastNotification = text;
    this.journal.add({ type: 'notification', text, source });
  }

  private facts(): { id: string; state: string; reason: string; exitCode: number | null; exitSignal: string | null; notification: string | null } {
    const s = this.state.current;
    return { id: this.host.id, state: s.state, reason: s.reason, exitCode: null, exitSignal: null, notification: this.lastNotification };
  }

  private changed(now: StateNow, before: StateNow): void {
    if (now.state !== before.state) {
      this.journal.add({ type: 'state', state: now.state, from: before.state, reason: now.reason });
      if (now.state === 'idle' || now.state === 'blocked') this.userHooks?.fire(now.state, this.facts());
    }
    for (const l of this.listeners) l(now, before);
  }

  /**
   * One timer for the next moment the state may change by itself (a threshold passing, a
   * foreground job to look at again): re-armed when it fires or when something sooner
   * comes up, so that a flood costs a comparison per chunk.
   */
  private arm(): void {
    let ms = this.state.nextCheckMs();
    if (ms === null) {
      // Every threshold has passed, perhaps since the state was decided: the clock moves
      // between the two (seen: the check after a task's idle time found the output 999 ms
      // quiet and decided `working`, then no threshold was left ahead at 1000 ms, and the
      // agent stayed `working` for good). Decided again now, it holds.
      this.state.update();
      ms = this.state.nextCheckMs();
      if (ms === null) return;
    }
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at + 5) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.state.update();
      this.arm();
    }, ms + 2);
  }
}
