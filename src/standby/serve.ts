import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { DIST_DIR } from '../dist-dir';
import { Places } from '../places';
import { adoptFrontEnd } from '../spawn-front-end';
import { loadAddon, mallocTrim, processCalls, receiveWithDescriptors, socketPeer } from '../sys/native-addon';
import { keepInspectorClosed } from '../sys/inspector-signal';
import { socketDescriptor } from '../sys/socket-reads';
import { contextDifference, nodeOnPath, processContext, startEnv } from './context';
import { type Answer, GO_WAIT_MS, MAX_REQUEST, REQUEST_WAIT_MS, SOCKET_NAME, STARTING_NAME, type SpawnRequest, decodeRequest } from './wire';

// The standby: the CLI, started under the supervisor's Node flags by `agent spawn`'s native
// front end after a spawn (native/spawn.c), with its bundle and the supervisor's loaded,
// waiting on a socket in the runtime directory for the next spawn. That one then costs no
// Node start-up and no bundle (~55 ms of a spawn's ~120 here): the front end hands it the
// command, environment, directory, umask and its stdout and stderr, this process runs the
// command as the CLI it would have started, becomes the agent's supervisor, and says the
// exit code. Each process serves one spawn; the front end starts the next standby.
//
// A standby is one per runtime directory (a user's), costs an idle supervisor's memory, and
// ends after STANDBY_IDLE_MS without a spawn, when its install's build changes, or when
// asked (`stop`). SYMPOSIUM_STANDBY=0 turns it off (native/spawn.c neither asks nor starts one).

/** Unused this long, a standby ends: the memory of one idle supervisor, for at most this.
 *  SYMPOSIUM_STANDBY_IDLE (seconds) sets another. */
export const STANDBY_IDLE_MS = 15 * 60_000;

function idleMs(env: NodeJS.ProcessEnv): number {
  const v = env.SYMPOSIUM_STANDBY_IDLE;
  return v !== undefined && /^\d{1,7}(\.\d{1,3})?$/.test(v) ? Math.round(Number(v) * 1000) : STANDBY_IDLE_MS;
}

type Command = () => void;

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
  if (!loadAddon() || !processCalls()) {
    process.stderr.write('standby: the native addon is not built: no standby\n');
    unlinkQuietly(startingPath);
    process.exit(1);
  }
  const dist = fs.realpathSync(DIST_DIR);
  const ids = buildIds();
  // What this process inherited and read as it started: a spawn must come with the same.
  const context = processContext(process.pid);
  const startEnvironment = startEnv(process.env);
  const node = fs.realpathSync(process.execPath);
  // What becoming a supervisor loads (start-supervisor.ts), loaded now.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(path.join(DIST_DIR, 'supervisor', 'launch.js')) as { supervisorEntry(): unknown }).supervisorEntry();

  let ino = -1;
  const server = net.createServer({ pauseOnConnect: true });
  const idle = setTimeout(() => stop(), idleMs(process.env));

  /** No more requests: the socket goes (if it is still ours), the process ends once idle. */
  function close(): void {
    clearTimeout(idle);
    server.close();
    try {
      if (fs.lstatSync(socketPath).ino === ino) fs.unlinkSync(socketPath);
    } catch {
      /* gone */
    }
  }
  function stop(): void {
    close();
    process.exit(0);
  }

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
    if (got.fds.length !== 2) return refuse('refused a spawn request without stdout and stderr');
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
    close(); // in this same turn: a client that connects now finds no standby
    socket.destroy(); // `report` holds the connection
    becomeClient(req, got.fds[0], got.fds[1], report);
    runCommand();
  });

  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE') {
      process.stderr.write(`standby: cannot listen on ${socketPath}: ${err.message}\n`);
      unlinkQuietly(startingPath);
      process.exit(1);
    }
    // A socket is there: a standby that answers stays the one; a dead one's file goes, as
    // does anything else in its place (never followed).
    let isSocket = false;
    try {
      isSocket = fs.lstatSync(socketPath).isSocket();
    } catch {
      /* gone meanwhile */
    }
    void (isSocket ? answers(socketPath) : Promise.resolve(false)).then((alive) => {
      if (alive) {
        unlinkQuietly(startingPath);
        process.exit(0);
      }
      unlinkQuietly(socketPath);
      server.listen(socketPath);
    });
  });
  server.listen(socketPath, () => {
    fs.chmodSync(socketPath, 0o600); // the directory is private already; the socket too
    ino = fs.lstatSync(socketPath).ino;
    unlinkQuietly(startingPath);
    // Small while it waits, as an idle supervisor is after its first collection.
    (globalThis as { gc?: () => void }).gc?.();
    mallocTrim();
  });
}

/**
 * This process takes the client's place: its environment, arguments, directory, umask,
 * stdout and stderr, and the socket for the exit code, as the CLI the front end would have
 * started would have them.
 */
function becomeClient(req: SpawnRequest, out: number, err: number, report: number): void {
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
