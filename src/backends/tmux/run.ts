import { spawn } from 'node:child_process';
import { UserError } from '../../errors';

// Runs the tmux client against one server. A session's server is the one whose socket was
// recorded when it was spawned (`tmux -S`): a CLI run with another server's $TMUX in its
// environment marked live sessions Crashed, and `kill` removed the record of a session
// that ran on. Without a recorded socket (sessions of the original tool, a spawn), the
// environment picks the server as tmux does (TMUX_TMPDIR, $TMUX).

/** Which tmux server, and the environment tmux runs in. */
export interface TmuxServer {
  /** The server's socket, as recorded at spawn; null: the one the environment names. */
  socket: string | null;
  env: NodeJS.ProcessEnv;
}

/** The socket of the server the environment names, as tmux finds it ($TMUX, else TMUX_TMPDIR or /tmp). */
export function environmentSocket(env: NodeJS.ProcessEnv): string {
  if (env.TMUX) return env.TMUX.split(',')[0]!;
  return `${env.TMUX_TMPDIR || '/tmp'}/tmux-${process.getuid!()}/default`;
}

/** The arguments that name the server, before the command. */
export function serverArgs(server: TmuxServer): string[] {
  return server.socket ? ['-S', server.socket] : [];
}

export interface TmuxResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const TMUX_MISSING =
  'The tmux backend needs tmux, which was not found in PATH. Install tmux, or use the default backend (--backend pty), which does not need it.';

/** A hung server must not hang every command. */
const TMUX_TIMEOUT_MS = 15_000;

export function runTmux(server: TmuxServer, args: string[], input?: Buffer): Promise<TmuxResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('tmux', [...serverArgs(server), ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: server.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), TMUX_TIMEOUT_MS);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new UserError(TMUX_MISSING));
      else reject(new UserError(`Cannot run tmux: ${e.code ?? e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && code === null) {
        reject(new UserError(`tmux did not answer within ${TMUX_TIMEOUT_MS / 1000} s (tmux ${args[0]})`));
        return;
      }
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    // EPIPE when tmux exits early (e.g. no such session): its stderr says why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/**
 * tmux reads every argument that ends in `;` as a command separator, even inside the
 * agent's own argv (`find . -exec … ;`); `\;` at the end stands for a literal `;`.
 */
export function literalArg(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}

/** `-c` directories are expanded as formats: `#` must be doubled. */
export function literalFormat(text: string): string {
  return text.replace(/#/g, '##');
}

/** Exact-name targets: a bare name would match any session it is a prefix of. */
export function sessionTarget(name: string): string {
  return literalArg(`=${name}`);
}

/** The session's current pane; the trailing colon makes tmux read the name as a session. */
export function paneTarget(name: string): string {
  return `=${name}:`;
}

/** No server running means no sessions (compat). */
export function isNoServer(stderr: string): boolean {
  return /no server running|error connecting to|server exited unexpectedly/.test(stderr);
}

export function isNoSession(stderr: string): boolean {
  return /can't find (session|window|pane)|no such (session|window|pane)|session not found/.test(stderr);
}

export function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
