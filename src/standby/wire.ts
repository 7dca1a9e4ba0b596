// The standby's request and answers (native/spawn.c writes the request and reads the
// answers; the same names and limits there). A request is a 4-byte big-endian length, then
// strings, each ended by a NUL:
//
//   HELLO, the install's dist directory (its real path), the kind (`spawn`, `run` or
//   `stop`), then for `spawn` and `run`: the working directory, the umask (decimal), the
//   terminal's columns and rows (0 0: stdout is not a terminal), BIN (the launcher's path,
//   argv[1]), the number of arguments and the arguments (`agent spawn ...` for a spawn,
//   `agent list ...` for a run: a command that ends), the number of environment entries
//   and the entries (NAME=value). A standby runs both the same way, and takes a run of
//   `agent list` only; one that knows no `run` refuses it (`refused`), and the client runs
//   the command itself.
//
// sent with two descriptors (SCM_RIGHTS): the client's stdout and stderr. Answers are
// lines: `ok`, to which the client says `go` (an empty request: a length of 0) within
// GO_WAIT_MS, and only then the command runs (a client that gave up waiting for `ok` and
// runs the command itself never says it: the command never runs twice); then `running PID`
// (the process that runs it, a copy of the standby: where the client passes the user's
// Ctrl-C), then `exit N` (the command is done and that process supervises the agent it
// started) or `ended N` (done, and nothing runs on). Instead of `ok`: `stale` (another install, build or
// version: this standby ends, the client may start another) or `refused WHY` (this
// request, or this client, is not one to take: the standby stays); nothing happened, the
// client runs the command itself. A `stop` is answered `stopping`.

export const HELLO = 'symposium-standby 2';
/** The socket's name in the runtime directory. */
export const SOCKET_NAME = 'standby.sock';
/** What a standby's Node writes to its stderr (errors at start-up), in the runtime directory. */
export const LOG_NAME = 'standby.log';
/** Made by the client that starts a standby, removed by the standby once it listens: one start at a time. */
export const STARTING_NAME = 'standby.starting';
/** Larger requests are refused (native/spawn.c sends none larger). */
export const MAX_REQUEST = 1 << 20;
/** A client sends its request right after it connects; one that has not in this long is dropped. */
export const REQUEST_WAIT_MS = 1000;
/** After `ok`, the client's `go`: it answers at once (one round trip), or has given up. */
export const GO_WAIT_MS = 1000;

export type Answer = 'ok' | 'stale' | 'stopping' | `refused ${string}` | `running ${number}` | `exit ${number}` | `ended ${number}`;

/** A command to run in a copy: a spawn (its copy may become the supervisor) or a run (a command that ends). */
export interface CommandRequest {
  kind: 'spawn' | 'run';
  dist: string;
  cwd: string;
  umask: number;
  /** The client's terminal, when its stdout is one. */
  size: { cols: number; rows: number } | null;
  bin: string;
  args: string[];
  env: Record<string, string>;
}

export interface StopRequest {
  kind: 'stop';
  dist: string;
}

export type Request = CommandRequest | StopRequest;

/** The request in `body` (after the length), or why it is not one (`otherVersion`: a standby request of another version). */
export function decodeRequest(body: Buffer): Request | { error: string; otherVersion?: true } {
  const parts = body.toString('utf8').split('\0');
  if (parts.pop() !== '') return { error: 'not NUL-ended' };
  let at = 0;
  const next = (): string | undefined => parts[at++];
  const count = (): number | null => {
    const v = next();
    return v !== undefined && /^\d{1,7}$/.test(v) ? Number(v) : null;
  };
  const hello = next();
  if (hello !== HELLO) return hello?.startsWith('symposium-standby ') ? { error: 'a standby request of another version', otherVersion: true } : { error: 'not a standby request' };
  const dist = next();
  const kind = next();
  if (dist === undefined || !dist.startsWith('/')) return { error: 'no dist directory' };
  if (kind === 'stop') return at === parts.length ? { kind, dist } : { error: 'more after stop' };
  if (kind !== 'spawn' && kind !== 'run') return { error: `unknown kind ${String(kind)}` };
  const cwd = next();
  const umask = count();
  const cols = count();
  const rows = count();
  const bin = next();
  if (cwd === undefined || !cwd.startsWith('/') || umask === null || umask > 0o777 || cols === null || rows === null || bin === undefined) {
    return { error: `a malformed ${kind} request` };
  }
  const argc = count();
  if (argc === null || at + argc > parts.length) return { error: 'a malformed argument list' };
  const args = parts.slice(at, (at += argc));
  const envc = count();
  if (envc === null || at + envc !== parts.length) return { error: 'a malformed environment' };
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const entry of parts.slice(at)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue; // as Node's process.env skips it
    const name = entry.slice(0, eq);
    if (!(name in env)) env[name] = entry.slice(eq + 1); // the first one wins, as getenv's
  }
  const size = cols > 0 && rows > 0 ? { cols, rows } : null;
  return { kind, dist, cwd, umask, size, bin, args, env };
}

/** A request as the native client writes it (for `stop`, and for tests). */
export function encodeRequest(strings: string[]): Buffer {
  const body = Buffer.from(strings.map((s) => `${s}\0`).join(''), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}
