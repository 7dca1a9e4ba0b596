import { UserError } from '../../errors';
import { START_GRACE_MS } from '../../start-grace';
import { TextPattern, matchForUser } from '../../text-pattern';
import type { WaitCondition, WaitOptions, WaitResult } from '../backend';
import { type PaneInfo, sessionPane } from './panes';
import type { TmuxServer } from './run';
import { type Screen, normalizeScreen, readScreen } from './screen';

// `agent wait` for tmux sessions: tmux has no events we can block on, so poll.

const POLL_MS = 150;
const DEFAULT_IDLE_MS = 2000;
/** History lines searched by --text beside the screen: text that scrolled by between polls. */
const TEXT_HISTORY = 200;

function aborted(): Error {
  const e = new Error('the wait was aborted');
  e.name = 'AbortError';
  return e;
}

function gone(id: string): UserError {
  return new UserError(`Agent session ${id} is gone from tmux (its tmux session was closed outside symposium-mcp)`);
}

type Result = Omit<WaitResult, 'state' | 'task'>;

function ended(pane: { exitCode: number | null; exitSignal: string | null }): Result {
  return { satisfied: true, ended: true, exitCode: pane.exitCode, exitSignal: pane.exitSignal, match: null };
}

export async function waitTmux(server: TmuxServer, id: string, name: string, cond: WaitCondition, opts: WaitOptions, createdAtMs = 0): Promise<WaitResult> {
  if (cond.until === 'state' || cond.until === 'task') {
    throw new UserError(`Agent session ${id} runs in tmux, where ${cond.until === 'task' ? 'tasks' : 'states other than by quiet output'} are not known: use --idle, --text or --exit, or the pty backend`);
  }
  const r = await poll(server, id, name, cond, opts, createdAtMs);
  // Only the end is a state tmux knows for sure.
  return { ...r, state: r.ended ? 'exited' : null, task: null };
}

async function poll(
  server: TmuxServer,
  id: string,
  name: string,
  cond: Exclude<WaitCondition, { until: 'state' } | { until: 'task' }>,
  opts: WaitOptions,
  createdAtMs: number,
): Promise<Result> {
  const deadline = opts.timeoutMs === null ? Infinity : Date.now() + opts.timeoutMs;
  const timedOut = (): Result => ({ satisfied: false, ended: false, exitCode: null, exitSignal: null, match: null });
  const sleep = async (ms: number) => {
    if (opts.signal?.aborted) throw aborted();
    await new Promise((r) => setTimeout(r, ms));
    if (opts.signal?.aborted) throw aborted();
  };

  if (cond.until === 'exit') {
    for (;;) {
      const pane: PaneInfo | null = await sessionPane(server, name);
      if (!pane) throw gone(id);
      if (pane.ended) return ended(pane);
      if (Date.now() >= deadline) return timedOut();
      await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  if (cond.until === 'text') {
    const re = TextPattern.compile(cond.pattern, cond.flags);
    for (;;) {
      const screen: Screen | null = await readScreen(server, name, { ansi: false, history: TEXT_HISTORY });
      if (!screen) throw gone(id);
      const m = matchForUser(re, normalizeScreen(screen.text, null), `Agent session ${id}: `);
      const pane = screen.ended ? await sessionPane(server, name) : null;
      if (m !== undefined) return { satisfied: true, ended: screen.ended, exitCode: pane?.exitCode ?? null, exitSignal: pane?.exitSignal ?? null, match: m };
      if (screen.ended) return ended(pane ?? { exitCode: null, exitSignal: null });
      if (Date.now() >= deadline) return timedOut();
      await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  // idle: the screen (and cursor) unchanged for idleMs, once the agent has drawn something
  // or its start grace is over (start-grace.ts); an ended agent is idle for good.
  const idleMs = cond.idleMs ?? (await sessionPane(server, name))?.idleMs ?? DEFAULT_IDLE_MS;
  let last: string | null = null;
  let since = Date.now();
  for (;;) {
    const screen = await readScreen(server, name, { ansi: true, history: 0 });
    if (!screen) throw gone(id);
    if (screen.ended) {
      const pane = await sessionPane(server, name);
      return ended(pane ?? { exitCode: null, exitSignal: null });
    }
    const key = `${screen.cursor?.x},${screen.cursor?.y}\n${screen.text}`;
    if (key !== last) {
      last = key;
      since = Date.now();
    } else if (Date.now() - since >= idleMs && (/\S/.test(screen.text.replace(/\x1b\[[\d;:]*m/g, '')) || Date.now() >= createdAtMs + START_GRACE_MS)) {
      return { satisfied: true, ended: false, exitCode: null, exitSignal: null, match: null };
    }
    if (Date.now() >= deadline) return timedOut();
    await sleep(Math.min(POLL_MS, Math.max(0, idleMs - (Date.now() - since)), Math.max(0, deadline - Date.now())) || 10);
  }
}
