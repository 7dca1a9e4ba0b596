import * as fs from 'node:fs';
import * as net from 'node:net';
import { RUN_MARKER, runMarker } from '../../agent-marker';
import type { SupervisorConfig } from '../../store/session-dir';
import { agentLaunch } from './agent-launch';
import { AgentProcess } from './agent-process';

// What the supervisor does before it loads the rest of itself: listen on the session's
// socket and start the agent. The spawning CLI waits only for this; the mirror, the viewers
// and the recording (most of the supervisor's code: ~100 ms of module loading at load ~2)
// load after `ready`. Nothing is lost meanwhile: the agent's output waits in the pty, or in
// a Hold once read, and a client that connects is held until the supervisor serves it.

/** What arrives (output, connections) until the supervisor takes it, kept in order. */
export class Hold<T> {
  private held: T[] | null = [];
  private sink: ((item: T) => void) | null = null;

  readonly take = (item: T): void => {
    if (this.sink) this.sink(item);
    else this.held!.push(item);
  };

  /** From now on items go to `sink`, the held ones first. */
  deliverTo(sink: (item: T) => void): void {
    const held = this.held ?? [];
    // An item taken while these are handed over is held until its turn.
    for (let i = 0; i < held.length; i++) sink(held[i]!);
    this.held = null;
    this.sink = sink;
  }
}

export interface EarlyStart {
  server: net.Server;
  agent: AgentProcess;
  output: Hold<Buffer>;
  connections: Hold<net.Socket>;
}

/** Listens on the session's socket, then starts the agent. Throws when either fails. */
export async function startEarly(config: SupervisorConfig): Promise<EarlyStart> {
  const connections = new Hold<net.Socket>();
  const server = await listen(config.socketPath, connections.take);
  const output = new Hold<Buffer>();
  const launch = agentLaunch(config);
  try {
    const agent = new AgentProcess(launch.command, config.workdir, config.cols, config.rows, output.take, {
      [RUN_MARKER]: runMarker(config.id, config.createdAtMs),
      SYMPOSIUM_SESSION: config.id,
      SYMPOSIUM_SOCKET: config.socketPath,
      ...launch.env,
    });
    return { server, agent, output, connections };
  } catch (err) {
    server.close();
    throw err;
  }
}

function listen(path: string, accept: (socket: net.Socket) => void): Promise<net.Server> {
  try {
    fs.unlinkSync(path); // a stale socket of a dead supervisor (the CLI checked none answers)
  } catch {
    /* none */
  }
  const server = net.createServer(accept);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // umask makes the socket 0600 from its creation: no window where others could connect.
    const old = process.umask(0o177);
    server.listen(path, () => {
      process.umask(old);
      server.off('error', reject);
      resolve(server);
    });
  });
}
