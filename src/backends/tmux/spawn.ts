import { UserError } from '../../errors';
import { sessionName } from '../../ids';
import { argv } from '../../sys/proc';
import type { SpawnRequest, SpawnResult } from '../backend';
import { IDLE_OPTION, sessionPane } from './panes';
import { type TmuxServer, firstLine, literalArg, literalFormat, paneTarget, runTmux, sessionTarget } from './run';
import { normalizeScreen, readScreen } from './screen';

// Creating the tmux session and checking that the agent command really started.

/** How long a command may take to fail before it counts as started. */
const START_CHECK_MS = 400;
const POLL_MS = 20;

/** sh's exit codes for "cannot execute" and "not found". */
const NOT_STARTED = new Set([126, 127]);

/**
 * Several arguments are exec'd through `sh -c 'exec "$@"'` rather than by tmux itself:
 * the argv is the same, but a command that cannot run prints why (tmux's own exec
 * failure exits 1 silently). A single argument goes to tmux as is, which runs it with
 * `$SHELL -c`, as the Rust tool did (compat).
 */
export function paneCommand(command: string[]): string[] {
  if (command.length === 1) return command;
  return ['/bin/sh', '-c', 'exec "$@"', 'sh', ...command];
}

function createArgs(req: SpawnRequest, name: string): string[] {
  const t = paneTarget(name);
  return [
    'new-session', '-d', '-s', name,
    '-c', literalArg(literalFormat(req.workdir)),
    '-x', String(req.cols), '-y', String(req.rows),
    // The pane's pid, and the server's socket: recorded, every later command names it.
    '-P', '-F', '#{pane_pid} #{socket_path}',
    ...paneCommand(req.command).map(literalArg),
    // In the same command list: tmux runs it before it handles the child's exit, so
    // even a command that dies at once leaves its pane and exit status behind.
    ';', 'set-option', '-t', t, 'remain-on-exit', 'on',
    ';', 'set-option', '-t', t, IDLE_OPTION, String(req.idleMs),
    // With several clients: follow the latest one, or fit the smallest (tmux's own policies).
    ';', 'set-option', '-t', t, 'window-size', req.sizePolicy,
    // Keep the final screen as the agent left it (no "Pane is dead" line; 3.3+ only, last).
    ';', 'set-option', '-t', t, 'remain-on-exit-format', '',
  ];
}

function createFailed(id: string, stdout: string, stderr: string): UserError {
  return new UserError(`Failed to create tmux session ${id}:\n  stdout: ${stdout.trim()}\n  stderr: ${stderr.trim()}`);
}

/** Linux: the pane's process now runs the agent's own argv, so exec succeeded. */
function execConfirmed(pid: number, command: string[]): boolean {
  const args = argv(pid);
  const want = command.length === 1 ? command[0]!.trim().split(/\s+/) : command;
  return args.length === want.length && args.every((a, i) => a === want[i]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function spawnTmux(env: NodeJS.ProcessEnv, req: SpawnRequest): Promise<SpawnResult> {
  const name = sessionName(req.id);
  const r = await runTmux({ socket: null, env }, createArgs(req, name));
  const created = /^(\d+)(?: (\/.*))?$/m.exec(r.stdout);
  const pid = created?.[1];
  // From here on, the server that made it, by its socket.
  const server: TmuxServer = { socket: created?.[2] ?? null, env };
  const where = server.socket ? { tmuxSocket: server.socket } : {};
  if (r.code !== 0) {
    if (pid === undefined) throw createFailed(req.id, r.stdout, r.stderr);
    // Created, but a later option failed: only an old tmux's missing option is harmless.
    if (!/remain-on-exit-format/.test(r.stderr)) {
      await runTmux(server, ['kill-session', '-t', sessionTarget(name)]);
      throw createFailed(req.id, r.stdout, r.stderr);
    }
  }
  const agentPid = pid !== undefined ? Number(pid) : null;
  const deadline = Date.now() + START_CHECK_MS;
  for (;;) {
    const pane = await sessionPane(server, name);
    if (!pane) throw createFailed(req.id, r.stdout, 'the session closed right after it was created');
    if (pane.ended) {
      if (pane.exitCode !== null && NOT_STARTED.has(pane.exitCode)) {
        const screen = await readScreen(server, name, { ansi: false, history: 'all' });
        await runTmux(server, ['kill-session', '-t', sessionTarget(name)]);
        const said = normalizeScreen(screen?.text ?? '', 20).split('\n').filter((l) => l !== '');
        // tmux may drop a pane's last output when it exits at once: then say what the
        // shell's exit code means (126: found but not executable, 127: not found).
        const byCode = pane.exitCode === 126 ? `${req.command[0]}: Permission denied` : `${req.command[0]}: command not found`;
        // What tmux kept may be cut short ("sh: 1: exec:"): then the exit code says it.
        const lines = said.some((l) => /not found|denied/i.test(l)) ? said : [firstLine(r.stderr) || byCode];
        const why = lines.map((l) => `  ${l}`).join('\n');
        throw new UserError(`The agent command failed to start in tmux session ${name} (exit code ${pane.exitCode}):\n${why}`);
      }
      // It ran and ended at once: the next sync records how.
      return { supervisorPid: null, agentPid: pane.pid ?? agentPid, ...where };
    }
    if ((agentPid !== null && execConfirmed(agentPid, req.command)) || Date.now() > deadline) {
      return { supervisorPid: null, agentPid: pane.pid ?? agentPid, ...where };
    }
    await sleep(POLL_MS);
  }
}
