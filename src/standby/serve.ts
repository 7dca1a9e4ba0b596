import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { DIST_DIR } from '../dist-dir';
import { Places } from '../places';
import { adoptFrontEnd } from '../spawn-front-end';
import { copyCalls, loadAddon, mallocTrim, processCalls, receiveWithDescriptors, socketPeer } from '../sys/native-addon';
import { keepInspectorClosed } from '../sys/inspector-signal';
import { socketDescriptor } from '../sys/socket-reads';
import { contextDifference, nodeOnPath, processContext, startEnv } from './context';
import { forkStandby } from './copy';
import { type KeptRehearsal, keepRehearsal } from './rehearsal';
import { type Answer, GO_WAIT_MS, MAX_REQUEST, REQUEST_WAIT_MS, SOCKET_NAME, STARTING_NAME, type CommandRequest, decodeRequest } from './wire';

// The standby: the CLI, started under the supervisor's Node flags by `agent spawn`'s native
// front end after a spawn (native/spawn.c), with its bundle and the supervisor's loaded,
// waiting on a socket in the runtime directory for the next spawns. Each then costs no Node
// start-up and no bundle: the front end hands over the command, environment, directory,
// umask and its stdout and stderr; the standby forks a copy of itself (copy.ts, ~6 ms),
// which says its pid, runs the command as the CLI would have, becomes the agent's
// supervisor and says the exit code, while the standby waits for the next. A spawn was
// ~100 ms of CPU for a Node started for it (and, before copies, for the next standby).
//
// `agent list` is handed over the same way (a `run`: the copy prints the list and ends).
//
// A standby is one per runtime directory (a user's), costs ~19 MiB of PSS while it waits
// (its copies share its pages until they write them), and ends after STANDBY_IDLE_MS
// without a spawn or a list, when its install's build changes, or when asked (`stop`).
// SYMPOSIUM_STANDBY=0 turns it off (native/spawn.c neither asks nor starts one).

/** Unused this long, a standby ends: the memory of one idle supervisor, for at most this.
 *  SYMPOSIUM_STANDBY_IDLE (seconds) sets another. */
export const STANDBY_IDLE_MS = 15 * 60_000;

function idleMs(env: NodeJS.ProcessEnv): number {
  const v = env.SYMPOSIUM_STANDBY_IDLE;
  return v !== undefined && /^\d{1,7}(\.\d{1,3})?$/.test(v) ? Math.round(Number(v) * 1000) : STANDBY_IDLE_MS;
}

type Command = () => void;

/** How the front end passes on the user's Ctrl-C (src/spawn-front-end.ts, native/spawn.c). */
const INTERRUPT_FORWARDED = 'SIGUSR2';
const IGNORE = Function.prototype as () => void;

/** The build ids of the bundles as they are on disk now (the launcher's id lines). */
function buildIds(): string {
  const ids: string[] = [];
  for (const file of ['cli.bundle.js', 'supervisor.bundle.js'].map((name) => path.join(DIST_DIR, name))) {
    try {
      const fd = fs.openSync(file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const tail = Buffer.alloc(Math.min(96, size));
        fs.readSync(fd, tail, 0, tail.length, size - tail.length);
        ids.push(tail.toString('latin1').split('\n').at(-2) ?? '');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      ids.push('');
    }
  }
  return ids.join('\n');
}

function say(fd: number, answer: Answer): boolean {
  try {
    return fs.writeSync(fd, `${answer}\n`) > 0;
  } catch {
    return false;
  }
}

function closeAll(fds: number[]): void {
  for (const fd of fds) {
    try {
      fs.closeSync(fd);
    } catch {
      /* closed */
    }
  }
}

function unlinkQuietly(p: string): void {
  try {
    fs.unlinkSync(p);
  } catch {
    /* gone */
  }
}

/** Whether a standby answers at `socketPath` (a connect, then a hang-up: it goes on). */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export function serveStandby(runCommand: Command): void {
  keepInspectorClosed();
  let dir: string;
  try {
    dir = new Places(process.env).runtimeDir();
  } catch (err) {
    process.stderr.write(`standby: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const socketPath = path.join(dir, SOCKET_NAME);
  const startingPath = path.join(dir, STARTING_NAME);
  // However this process ends before it listens, the start it was is over: front ends
  // waiting for it (native/spawn.c) go on at once.
  const startOver = (): void => unlinkQuietly(startingPath);
  process.on('exit', startOver);
  const copies = loadAddon() ? copyCalls() : null;
  if (!copies || !processCalls()) {
    process.stderr.write('standby: the native addon is not built: no standby\n');
    process.exit(1);
  }
  const dist = fs.realpathSync(DIST_DIR);
  const ids = buildIds();
  // What this process inherited and read as it started: a spawn must come with the same.
  const context = processContext(process.pid);
  const startEnvironment = startEnv(process.env);
  const node = fs.realpathSync(process.execPath);
  // What becoming a supervisor loads (start-supervisor.ts) and runs first, loaded and
  // compiled now, once for every copy; it listens once that is done.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rehearsed = (require(path.join(DIST_DIR, 'supervisor', 'launch.js')) as typeof import('../supervisor/launch')).supervisorEntry().rehearse();
  /** Its mirror, kept in effect while this process is the standby (rehearsal.ts). */
  let kept: KeptRehearsal | null = null;

  let ino = -1;
  // Shorter than SOCKET_NAME: a runtime directory whose socket path fits fits this one too.
  const boundAt = path.join(dir, `.s${process.pid}`);
  const server = net.createServer({ pauseOnConnect: true });
  const idle = setTimeout(() => stop(), idleMs(process.env));

  /**
   * No more requests here: the listener closes and, in the standby, its socket goes (if it
   * is still ours; a copy leaves it to the standby). The process ends once idle.
   */
  function close(who: 'standby' | 'copy'): void {
    clearTimeout(idle);
    server.close();
    if (who === 'copy') return;
    try {
      if (fs.lstatSync(socketPath).ino === ino) fs.unlinkSync(socketPath);
    } catch {
      /* gone */
    }
    unlinkQuietly(boundAt);
  }
  function stop(): never {
    close('standby');
    process.exit(0);
  }
  // The front end passes the user's Ctrl-C to the copy running its spawn, never here; one
  // sent here by mistake must not end the standby.
  process.on(INTERRUPT_FORWARDED, IGNORE);

  server.on('connection', (socket: net.Socket) => {
    const fd = socketDescriptor(socket); // paused: libuv has read nothing from it
    const peer = fd >= 0 ? socketPeer(fd) : null;
    if (!peer || !('uid' in peer) || peer.uid !== process.getuid!()) {
      socket.destroy();
      return;
    }
    const got = receiveWithDescriptors(fd, MAX_REQUEST, REQUEST_WAIT_MS);
    if (!got || 'errno' in got) {
      socket.destroy(); // a probe's hang-up, or a client that sent nothing in time
      return;
    }
    const refuse = (answer: Answer, fds: number[] = got.fds): void => {
      closeAll(fds);
      say(fd, answer);
      socket.destroy();
    };
    const req = decodeRequest(got.body);
    if ('error' in req) {
      refuse(req.otherVersion ? 'stale' : `refused ${req.error}`);
      if (req.otherVersion) stop(); // another version's front ends would start a standby of theirs in vain
      return;
    }
    if (req.kind === 'stop' || req.dist !== dist || buildIds() !== ids) {
      refuse(req.kind === 'stop' ? 'stopping' : 'stale');
      stop(); // asked to, or another install or build: of no use any more
      return;
    }
    // A run is a command that prints and ends: `agent list` only (its copy leaves as soon as
    // the command is done, src/cli/main.ts; a server or a follower would be cut short).
    if (req.kind === 'run' && !(req.args[0] === 'agent' && req.args[1] === 'list')) return refuse('refused a run of another command than agent list');
    if (got.fds.length !== 2) return refuse(`refused a ${req.kind} request without stdout and stderr`);
    const other = contextDifference(context, processContext(peer.pid));
    if (other) return refuse(`refused another context than this standby's: ${other}`);
    if (startEnv(req.env) !== startEnvironment) return refuse("refused another start-up environment than this standby's (NODE_*, LD_*, MALLOC_*...)");
    if (nodeOnPath(req.env.PATH) !== node) return refuse("refused another node on PATH than this standby's");
    const report = processCalls()!.dupCloexec(fd);
    if (report < 0) return refuse('refused no descriptor left');
    try {
      process.chdir(req.cwd);
    } catch (err) {
      return refuse(`refused cannot enter ${req.cwd}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, [...got.fds, report]);
    }
    // `ok`, then the client's `go`: without it (it gave up waiting) nothing runs here.
    const go = say(fd, 'ok') ? receiveWithDescriptors(fd, 0, GO_WAIT_MS) : null;
    if (!go || 'errno' in go || go.body.length !== 0 || go.fds.length !== 0) {
      closeAll([...got.fds, report, ...(go && 'fds' in go ? go.fds : [])]);
      process.chdir('/');
      socket.destroy();
      return;
    }
    const pid = forkStandby(copies);
    if (pid === 0 || pid < 0) {
      // The copy (or, when no copy can be made, this process: it stops being the standby).
      // Its listener goes in this same turn; the socket's path is the standby's (libuv
      // unlinks only the name it bound, long gone: see publish).
      close(pid === 0 ? 'copy' : 'standby');
      kept?.release();
      kept = null; // the rehearsal's mirror is garbage now, for the copy's first collection
      process.off(INTERRUPT_FORWARDED, IGNORE);
      socket.destroy(); // `report` holds the connection
      if (!say(report, `running ${process.pid}`)) process.exit(1); // the client is gone: nothing runs
      becomeClient(req, got.fds[0], got.fds[1], report);
      runCommand();
      return;
    }
    closeAll([...got.fds, report]);
    process.chdir('/');
    socket.destroy();
    idle.refresh();
  });

  server.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`standby: cannot listen on ${boundAt}: ${err.message}\n`);
    process.exit(1);
  });

  /**
   * The listener is bound at a name of its own and linked at SOCKET_NAME: a copy closes its
   * listener (libuv then unlinks the bound name) without taking the standby's away. A
   * socket already there: a standby that answers stays the one; a dead one's file goes, as
   * does anything else in its place (never followed).
   */
  function publish(retry = true): void {
    try {
      fs.linkSync(boundAt, socketPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !retry) {
        process.stderr.write(`standby: cannot listen on ${socketPath}: ${(err as Error).message}\n`);
        close('standby');
        process.exit(1);
      }
      let isSocket = false;
      try {
        isSocket = fs.lstatSync(socketPath).isSocket();
      } catch {
        /* gone meanwhile */
      }
      void (isSocket ? answers(socketPath) : Promise.resolve(false)).then((alive) => {
        if (alive) stop();
        unlinkQuietly(socketPath);
        publish(false);
      });
      return;
    }
    unlinkQuietly(boundAt);
    ino = fs.lstatSync(socketPath).ino;
    unlinkQuietly(startingPath);
    process.off('exit', startOver); // later starts are other processes'; copies must not touch it
    // Small while it waits (its copies start from here): its young generation emptied, not a
    // full collection, which would throw away the code the rehearsal optimized (rehearsal.ts).
    (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc?.({ type: 'minor' });
    mallocTrim();
  }
  const listen = (): void => {
    unlinkQuietly(boundAt);
    server.listen(boundAt, () => {
      fs.chmodSync(boundAt, 0o600); // the directory is private already; the socket too
      publish();
    });
  };
  rehearsed.then(
    (rehearsal) => {
      kept = keepRehearsal(rehearsal);
      listen();
    },
    (err: Error) => {
      process.stderr.write(`standby: the rehearsal failed (copies compile what it would have): ${err.stack ?? err.message}\n`);
      listen();
    },
  );
}

/**
 * This process takes the client's place: its environment, arguments, directory, umask,
 * stdout and stderr, and the socket for the exit code, as the CLI the front end would have
 * started would have them.
 */
function becomeClient(req: CommandRequest, out: number, err: number, report: number): void {
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, req.env);
  process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED = 'true'; // as bin/symposium-mcp sets it
  process.umask(req.umask);
  process.argv = [process.execPath, req.bin, ...req.args];
  const calls = processCalls()!;
  calls.dup2(out, 1); // descriptors we hold, on 1 and 2: it cannot fail
  calls.dup2(err, 2);
  closeAll([out, err]);
  adoptFrontEnd(report, req.size);
}
