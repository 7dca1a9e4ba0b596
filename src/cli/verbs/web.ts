import { InvalidArgumentError } from 'commander';
import { type VerbEntry, options, print, warn } from '../verb';

// `symposium-mcp web`: every agent in a browser. A top-level command (the bare command is
// the MCP server); the server's modules (and the ws package) load only when it runs.

interface Flags {
  port: number;
  bind: string;
  tokenFile?: string;
  write?: boolean;
}

/** Chosen to sit clear of the usual development servers' ports. */
export const DEFAULT_WEB_PORT = 8421;

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('a port number from 0 (any free port) to 65535');
  return n;
}

/** Resolves on Ctrl-C or SIGTERM. */
function stopRequested(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export const webVerb: VerbEntry = {
  name: 'web',
  summary: 'look at your agents in a browser (read-only unless --write)',
  args: [],
  options: [
    { flags: '--port <n>', description: `port to listen on (0: any free port)`, parse: port, default: DEFAULT_WEB_PORT },
    { flags: '--bind <addr>', description: 'address to listen on; anything but loopback is reachable from the network, in plain HTTP', default: '127.0.0.1' },
    { flags: '--token-file <file>', description: 'keep the token in this file (created 0600 when missing, read when it exists)' },
    { flags: '--write', description: 'let the page type into agents, send lines and queue tasks' },
  ],
  examples: [
    'symposium-mcp web',
    'symposium-mcp web --write --token-file ~/.symposium/web-token',
    'ssh -L 8421:127.0.0.1:8421 my-server   # then open the printed URL on this machine',
  ],
  async run(client, _args, raw) {
    const f = options<Flags>(raw);
    const { startWebServer } = await import('../../web/server');
    const stopped = stopRequested();
    const server = await startWebServer({
      client,
      port: f.port,
      bind: f.bind,
      tokenFile: f.tokenFile,
      write: f.write === true,
      log: (line) => warn(`${new Date().toISOString().slice(11, 19)} ${line}`),
    });
    const from = server.token.origin === 'generated' ? '' : ` (token ${server.token.origin === 'created' ? 'written to' : 'from'} ${f.tokenFile})`;
    print(`Your agents: ${server.url}${from}`);
    print(
      f.write
        ? 'Writable: the page can type into agents, send lines and queue tasks.'
        : 'Read-only: start with --write to type into agents, send lines and queue tasks from the page.',
    );
    if (server.exposed) {
      warn(`Warning: listening on ${f.bind}, reachable from the network in plain HTTP: anyone on the way can read the token and the screens. Prefer the default (127.0.0.1) with ssh -L.`);
    } else {
      print(`From another machine: ssh -L ${server.port}:${server.host}:${server.port} THIS-HOST, then open the same URL there.`);
    }
    print('Ctrl-C stops.');
    await stopped;
    await server.close();
    return 0;
  },
};
