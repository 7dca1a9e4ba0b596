import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { type Sandbox, waitFor } from './sandbox';
import { type PaneState, TmuxView, settleEqual } from './tmux-view';

// The replay check shared by the attach tests: the same program runs directly in one
// tmux pane and as an agent attached in another pane of the same size, and what tmux
// holds for both must be identical.

export const COLS = 100;
export const ROWS = 30;

interface Seen {
  screen: string;
  history: string;
  joined: string;
  alternate: string;
  state: PaneState;
}

/** The helpers, bound to the test file's current sandbox. */
export function replayKit(current: () => Sandbox) {
  function seen(v: TmuxView, alternate: boolean, history: boolean): Seen {
    return {
      screen: v.capture(),
      history: history ? v.capture({ scrollback: true }) : '',
      joined: history ? joinedHistory(v) : '',
      // The screen hidden under the alternate one (capture-pane -a), when there is one.
      alternate: alternate ? v.capture({ alternate: true, scrollback: true }) : '',
      state: v.state(),
    };
  }

  /** History with wrapped lines joined: proves the wrap flags were replayed too. */
  function joinedHistory(v: TmuxView): string {
    const r = v.sb.tmux(['capture-pane', '-p', '-J', '-S', '-', '-t', v.target]);
    return r.stdout;
  }

  /** Polls until both panes show the same thing, then asserts it (a failure shows the diff). */
  async function expectSame(direct: TmuxView, viewer: TmuxView, alternate = false, history = true): Promise<Seen> {
    const [a, b] = await settleEqual(
      () => seen(direct, alternate, history),
      () => seen(viewer, alternate, history),
    );
    expect(b).toEqual(a);
    return a;
  }

  function writeScript(name: string, body: string): string {
    const file = path.join(current().work, name);
    fs.writeFileSync(file, body);
    return file;
  }

  function spawn(id: string, argv: string[], cols = COLS, rows = ROWS): void {
    const r = current().run(['agent', 'spawn', '--uuid', id, '--workdir', current().work, '--cols', String(cols), '--rows', String(rows), '--', ...argv]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
  }

  /** The same program directly in a pane (with the TERM agents get) and as an agent. */
  function startBoth(id: string, argv: string[]): TmuxView {
    const direct = new TmuxView(current(), 'direct', COLS, ROWS, ['env', 'TERM=xterm-256color', ...argv]);
    spawn(id, argv);
    return direct;
  }

  async function agentShows(id: string, re: RegExp): Promise<void> {
    const r = current().run(['agent', 'wait', id, '--text', re.source, '--timeout', '40'], { timeoutMs: 50_000 });
    expect(r, r.stderr).toMatchObject({ code: 0 });
  }

  async function detach(v: TmuxView, id: string): Promise<void> {
    v.keys('C-\\');
    await waitFor(() => v.dead(), 30_000);
    expect(v.text()).toContain(`[detached from ${id}]`);
  }

  return { expectSame, writeScript, spawn, startBoth, agentShows, detach };
}
