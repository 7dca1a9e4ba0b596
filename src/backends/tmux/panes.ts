import * as os from 'node:os';
import { UserError } from '../../errors';
import { SESSION_PREFIX } from '../../ids';
import { type TmuxServer, isNoServer, isNoSession, paneTarget, runTmux } from './run';

// What tmux tells about a session's pane, read in one list-panes call.
// tmux 3.3a knows pane_dead_status and pane_dead_signal (a number); both stay empty
// until the server has reaped the child, even when pane_dead is already 1.
// Debian's tmux is built with libutempter, whose helper briefly owns SIGCHLD when a pane
// closes: the agent's exit can be missed and it stays a zombie with no status (tmux
// issues #311, #4559). Seeing a closed pane without a status, we send the server the
// SIGCHLD it missed (harmless: it only reaps what has exited) and ask again.

/** Session user option holding the idle threshold given at spawn. */
export const IDLE_OPTION = '@symposium_idle_ms';

const FIELDS = [
  'session_name',
  'window_active',
  'pane_active',
  'pane_dead',
  'pane_dead_status',
  'pane_dead_signal',
  'pane_pid',
  'window_width',
  'window_height',
  'session_attached',
  'window_activity',
  IDLE_OPTION,
  'pid',
] as const;

const FORMAT = FIELDS.map((f) => `#{${f}}`).join('\t');

export interface PaneInfo {
  session: string;
  pid: number | null;
  /** The agent has exited: its status or signal is known. */
  ended: boolean;
  exitCode: number | null;
  exitSignal: string | null;
  cols: number;
  rows: number;
  viewers: number;
  /** Seconds since the epoch; tmux updates it on output. */
  activitySecs: number | null;
  idleMs: number | null;
}

function int(s: string | undefined): number | null {
  if (s === undefined || s === '' || !/^-?\d+$/.test(s)) return null;
  return Number(s);
}

function signalName(n: number): string {
  for (const [name, num] of Object.entries(os.constants.signals)) if (num === n) return name;
  return `SIG${n}`;
}

interface Row {
  info: PaneInfo;
  current: boolean;
  /** The pane closed but the server has not reaped the agent yet. */
  unreaped: boolean;
  serverPid: number | null;
}

function parseRow(line: string): Row | null {
  const f = line.split('\t');
  if (f.length < FIELDS.length) return null;
  const status = int(f[4]);
  const signal = int(f[5]);
  const ended = status !== null || signal !== null;
  return {
    current: f[1] === '1' && f[2] === '1',
    unreaped: f[3] === '1' && !ended,
    serverPid: int(f[12]),
    info: {
      session: f[0]!,
      pid: int(f[6]),
      ended,
      exitCode: status,
      exitSignal: signal !== null ? signalName(signal) : null,
      cols: int(f[7]) ?? 0,
      rows: int(f[8]) ?? 0,
      viewers: int(f[9]) ?? 0,
      activitySecs: int(f[10]),
      idleMs: int(f[11]),
    },
  };
}

/**
 * The agent's pane of each session: the active pane of the current window, the one
 * `=NAME:` targets (a session has only that pane unless someone split it).
 */
function pick(rows: Row[]): Map<string, PaneInfo> {
  const out = new Map<string, PaneInfo>();
  const current = new Set<string>();
  for (const row of rows) {
    const name = row.info.session;
    if (current.has(name)) continue;
    if (row.current) current.add(name);
    if (row.current || !out.has(name)) out.set(name, row.info);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** list-panes with `scope`; null when there is no server or no such session. */
async function query(server: TmuxServer, scope: string[], what: string): Promise<Row[] | null> {
  for (let attempt = 0; ; attempt++) {
    const r = await runTmux(server, ['list-panes', ...scope, '-F', FORMAT]);
    if (r.code !== 0) {
      if (isNoServer(r.stderr) || isNoSession(r.stderr)) return null;
      throw new UserError(`tmux list-panes failed${what}: ${r.stderr.trim() || `exit code ${r.code}`}`);
    }
    const rows = r.stdout.split('\n').map(parseRow).filter((x): x is Row => x !== null);
    const stuck = rows.find((row) => row.unreaped && row.info.session.startsWith(SESSION_PREFIX));
    if (!stuck || stuck.serverPid === null || attempt >= 3) return rows;
    try {
      process.kill(stuck.serverPid, 'SIGCHLD');
    } catch {
      return rows;
    }
    await sleep(10 * (attempt + 1));
  }
}

/** Every pane of the server, by session name; no server means no sessions. */
export async function listAllPanes(server: TmuxServer): Promise<Map<string, PaneInfo>> {
  return pick((await query(server, ['-a'], '')) ?? []);
}

/** One session's agent pane, or null when tmux has no such session. */
export async function sessionPane(server: TmuxServer, name: string): Promise<PaneInfo | null> {
  const rows = await query(server, ['-t', paneTarget(name)], ` for ${name}`);
  return rows ? (pick(rows).get(name) ?? null) : null;
}
