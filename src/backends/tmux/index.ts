import { spawnSync } from 'node:child_process';
import { UserError } from '../../errors';
import { sessionName } from '../../ids';
import { toMillis } from '../../store/time';
import { encodeKeyForTmux } from '../../keys/encode';
import { KEY_GAP_MS } from '../../keys/gap';
import type { SessionRecord } from '../../store/types';
import { pidAlive } from '../../sys/proc';
import { ProcessTree } from '../../sys/process-tree';
import type {
  AttachStream,
  Backend,
  CaptureOptions,
  CaptureResult,
  KillResult,
  Observation,
  QueueEntry,
  SendOptions,
  SpawnRequest,
  SpawnResult,
  StatusResult,
  TerminalAttachOptions,
  WaitCondition,
  WaitOptions,
  WaitResult,
} from '../backend';
import { type PaneInfo, listAllPanes, sessionPane } from './panes';
import { TMUX_MISSING, type TmuxServer, environmentSocket, isNoServer, isNoSession, paneTarget, runTmux, serverArgs, sessionTarget } from './run';
import { normalizeScreen, readScreen } from './screen';
import { spawnTmux } from './spawn';
import { waitTmux } from './wait';

// The original design: each agent in its own tmux session `symposium-agent-ID`, on
// whatever tmux server the environment names. Dead panes stay (remain-on-exit) so the
// exit status can be read, until `agent kill` closes the session.

const DEFAULT_IDLE_MS = 2000;
const QUEUE_UNSUPPORTED =
  'The task queue needs the pty backend (a resident supervisor delivers tasks when the agent is idle); tmux sessions cannot queue. Use `agent send` instead.';

/** The name tmux really gave the session: the Rust tool let `.` and `:` through, tmux made them `_`. */
function tmuxName(rec: SessionRecord): string {
  return sessionName(rec.uuid).replace(/[.:]/g, '_');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function observation(pane: PaneInfo | undefined): Observation {
  if (!pane) return { state: 'missing', reason: 'gone from tmux' };
  if (pane.ended) return { state: 'ended', exitCode: pane.exitCode, exitSignal: pane.exitSignal, agentPid: pane.pid };
  // window_activity has whole seconds: count output in that second as recent.
  const lastOutputAt = pane.activitySecs !== null ? pane.activitySecs * 1000 : null;
  const idleMs = pane.idleMs ?? DEFAULT_IDLE_MS;
  const activity = lastOutputAt === null ? null : Date.now() - (lastOutputAt + 999) < idleMs ? 'working' : 'idle';
  return {
    // tmux tells no more than whether the pane printed lately: that, said to be a guess.
    agentState: activity === null ? { state: 'unknown', reason: 'tmux backend', since: null } : { state: activity, reason: 'tmux: by output only', since: null },
    state: 'running',
    agentPid: pane.pid,
    supervisorPid: null,
    cols: pane.cols,
    rows: pane.rows,
    viewers: pane.viewers,
    lastOutputAt,
    activity,
  };
}

export class TmuxBackend implements Backend {
  readonly name = 'tmux' as const;

  /** `env`: what tmux runs with (and where it finds a server no record names). */
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The server that runs this session: the one recorded at spawn, else the environment's. */
  private serverOf(rec: SessionRecord): TmuxServer {
    return { socket: rec.tmux_socket ?? null, env: this.env };
  }

  spawn(req: SpawnRequest): Promise<SpawnResult> {
    return spawnTmux(this.env, req);
  }

  async observe(records: SessionRecord[]): Promise<Map<string, Observation>> {
    // One list per server.
    const bySocket = new Map<string | null, SessionRecord[]>();
    for (const rec of records) {
      const key = rec.tmux_socket ?? null;
      bySocket.set(key, [...(bySocket.get(key) ?? []), rec]);
    }
    const out = new Map<string, Observation>();
    for (const [socket, recs] of bySocket) {
      const panes = await listAllPanes({ socket, env: this.env });
      for (const rec of recs) out.set(rec.uuid, observation(panes.get(tmuxName(rec))));
    }
    return out;
  }

  async attachTerminal(rec: SessionRecord, opts: TerminalAttachOptions): Promise<number> {
    const name = tmuxName(rec);
    const server = this.serverOf(rec);
    if (opts.printOnly) {
      // As the original tool printed it, unless the session's server is not the one this environment names.
      const S = server.socket && server.socket !== environmentSocket(this.env) ? `-S ${server.socket} ` : '';
      process.stdout.write(`To attach to agent session ${rec.uuid}, run:\n  tmux ${S}attach-session -t ${name}\n`);
      return 0;
    }
    // Inside tmux, a nested client is refused: move this client to the agent instead, when
    // it is the same server; another server's session is attached as a nested client.
    const insideTmux = !!this.env.TMUX && (server.socket === null || this.env.TMUX.split(',')[0] === server.socket);
    if (insideTmux && opts.readOnly) {
      throw new UserError('A read-only attach from inside tmux is not supported: run it from a terminal outside tmux, or drop --read-only.');
    }
    const args = insideTmux
      ? ['switch-client', '-t', sessionTarget(name)]
      : ['attach-session', ...(opts.readOnly ? ['-r'] : []), '-t', sessionTarget(name)];
    const env = { ...this.env };
    if (!insideTmux) delete env.TMUX;
    // The detach key is tmux's own (prefix, then d); opts.detachKey applies to pty sessions.
    if (process.stdin.isTTY) opts.onAttached(); // without a terminal tmux refuses at once
    const r = spawnSync('tmux', [...serverArgs(server), ...args], { stdio: 'inherit', env });
    if (r.error) {
      if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(TMUX_MISSING);
      throw new UserError(`Failed to attach to tmux session ${name}`);
    }
    if (r.status !== 0) throw new UserError(`Failed to attach to tmux session ${name}`);
    return 0;
  }

  async kill(rec: SessionRecord): Promise<KillResult> {
    const name = tmuxName(rec);
    const server = this.serverOf(rec);
    const pane = await sessionPane(server, name);
    // The agent's descendants in other process groups or sessions get no hangup from tmux:
    // taken now, while their parent links exist, and ended after it (sys/process-tree.ts).
    const tree = pane && !pane.ended && pane.pid !== null ? new ProcessTree([pane.pid]) : null;
    const r = await runTmux(server, ['kill-session', '-t', sessionTarget(name)]);
    if (r.code !== 0 && !isNoServer(r.stderr) && !isNoSession(r.stderr)) {
      throw new UserError(`Failed to kill tmux session ${name}: ${r.stderr.trim() || `exit code ${r.code}`}`);
    }
    // tmux hangs up the pane; an agent that ignores SIGHUP would live on unseen.
    if (pane && !pane.ended && pane.pid !== null) {
      for (let i = 0; i < 10 && pidAlive(pane.pid); i++) await sleep(30);
      if (pidAlive(pane.pid)) {
        try {
          process.kill(-pane.pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
      }
    }
    if (tree && tree.alive().length > 0) {
      for (const sig of ['SIGHUP', 'SIGTERM', 'SIGKILL'] as const) {
        tree.signal(sig);
        for (let i = 0; i < 20 && tree.alive().length > 0; i++) await sleep(50);
        if (tree.alive().length === 0) break;
      }
    }
    // tmux marks no process of a pane: one that daemonised itself cannot be told from others here.
    return { leftRunning: [] };
  }

  async send(rec: SessionRecord, opts: SendOptions): Promise<null> {
    // Keys as tmux itself sends them to a pane (encodeKeyForTmux), as raw bytes (send-keys -H).
    const keys = opts.keyNames ? opts.keyNames.map((k) => Buffer.from(encodeKeyForTmux(k), 'utf8')) : opts.keys;
    if (opts.data.length === 0 && keys.length === 0) return null;
    const name = tmuxName(rec);
    const server = this.serverOf(rec);
    const failed = (r: { stderr: string; code: number }) => {
      if (isNoServer(r.stderr) || isNoSession(r.stderr)) return new UserError(`Agent session ${rec.uuid} is gone from tmux: cannot send to it`);
      return new UserError(`Failed to send to tmux session ${name}: ${r.stderr.trim() || `exit code ${r.code}`}`);
    };
    // The text and each key are separate writes, KEY_GAP_MS apart, as the pty backend types
    // them (in one tmux command, the Enter after a paste was lost, see keys/gap.ts). Two
    // sends at once may interleave here: tmux has no lock of ours to hold.
    let first = true;
    if (opts.data.length > 0) {
      // The buffer name is ours alone, so concurrent sends cannot paste each other's text.
      const buffer = `symposium-${rec.uuid}-${process.pid}-${Date.now()}`;
      let data = opts.data;
      // A paste must not be able to end itself early.
      if (opts.paste) data = Buffer.from(data.toString('utf8').replaceAll('\x1b[201~', ''), 'utf8');
      // -r: bytes as given (no LF to CR); -p: bracketed only if the agent enabled it.
      const paste = ['paste-buffer', '-d', '-r', ...(opts.paste ? ['-p'] : []), '-b', buffer, '-t', paneTarget(name)];
      const r = await runTmux(server, ['load-buffer', '-b', buffer, '-', ';', ...paste], data);
      if (r.code !== 0) {
        await runTmux(server, ['delete-buffer', '-b', buffer]);
        throw failed(r);
      }
      first = false;
    }
    for (const k of keys) {
      if (!first) await sleep(KEY_GAP_MS);
      first = false;
      const r = await runTmux(server, ['send-keys', '-H', '-t', paneTarget(name), ...[...k].map((b) => b.toString(16).padStart(2, '0'))]);
      if (r.code !== 0) throw failed(r);
    }
    return null; // tmux sessions have no task receipts
  }

  async capture(rec: SessionRecord, opts: CaptureOptions): Promise<CaptureResult> {
    const screen = await readScreen(this.serverOf(rec), tmuxName(rec), { ansi: opts.ansi, history: opts.scrollback ? 'all' : 0 });
    if (!screen) {
      throw new UserError(
        `Agent session ${rec.uuid} is gone from tmux (status ${rec.status}): there is no screen to capture. \`agent kill ${rec.uuid}\` removes its record.`,
      );
    }
    // tmux numbers no lines: `since` is not supported there (nextLine null says so).
    return {
      text: normalizeScreen(screen.text, opts.lines),
      cols: screen.cols,
      rows: screen.rows,
      cursor: screen.cursor,
      final: screen.ended,
      firstLine: null,
      nextLine: null,
      skipped: 0,
      alternate: false,
    };
  }

  async attach(rec: SessionRecord): Promise<AttachStream> {
    throw new UserError(`Agent session ${rec.uuid} runs in tmux: attaching as a stream needs the pty backend. Use \`tmux attach-session -t ${tmuxName(rec)}\`.`);
  }

  wait(rec: SessionRecord, cond: WaitCondition, opts: WaitOptions): Promise<WaitResult> {
    return waitTmux(this.serverOf(rec), rec.uuid, tmuxName(rec), cond, opts, toMillis(rec.created_at));
  }

  async status(rec: SessionRecord): Promise<StatusResult> {
    const pane = await sessionPane(this.serverOf(rec), tmuxName(rec));
    if (!pane) throw new UserError(`Agent session ${rec.uuid} is gone from tmux`);
    const obs = observation(pane);
    return {
      running: !pane.ended,
      cols: pane.cols,
      rows: pane.rows,
      viewers: pane.viewers,
      lastOutputAt: obs.lastOutputAt ?? null,
      activity: obs.activity ?? null,
      agentState: obs.agentState ?? null,
      idleMs: pane.idleMs,
      title: null,
      exitCode: pane.exitCode,
      exitSignal: pane.exitSignal,
      supervisorPid: null,
      agentPid: pane.pid,
      queued: null,
    };
  }

  async queueAdd(): Promise<QueueEntry> {
    throw new UserError(QUEUE_UNSUPPORTED);
  }

  async queueList(): Promise<QueueEntry[]> {
    throw new UserError(QUEUE_UNSUPPORTED);
  }

  async queueClear(): Promise<number> {
    throw new UserError(QUEUE_UNSUPPORTED);
  }
}
