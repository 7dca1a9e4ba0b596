import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { SymposiumClient } from '../client/client';
import { UserError } from '../errors';
import { VERSION } from '../version';
import { AgentsFeed } from './agents-feed';
import { Auth } from './auth';
import { isLoopback, reachableNames, urlHost } from './bind-address';
import { WebLimits } from './limits';
import { handleRequest } from './routes';
import { loadStaticFiles } from './static-files';
import { type Token, obtainToken } from './token-file';
import { WsSession } from './ws-session';

// `symposium-mcp web`: Node's http server for the page and its WebSocket (the ws package),
// every agent reached through the client library. A token is always required, on loopback
// too: other users of the machine and other sites' pages in the user's own browser can
// reach 127.0.0.1.

export interface WebOptions {
  client: SymposiumClient;
  /** 0: any free port. */
  port: number;
  bind: string;
  tokenFile?: string;
  /** Typing, sending and queueing from the page. */
  write: boolean;
  /** A line per page that comes and goes, and per request refused. */
  log?: (line: string) => void;
}

export interface WebServer {
  /** The address to open, token in the fragment. */
  url: string;
  port: number;
  token: Token;
  /** Bound to an address other machines can reach. */
  exposed: boolean;
  /** The address as a URL names it ([::1], 127.0.0.1…): what an SSH tunnel forwards to. */
  host: string;
  /** Closes every page's streams, then the server. */
  close(): Promise<void>;
}

function refuse(socket: Duplex, code: number, why: string): void {
  socket.end(`HTTP/1.1 ${code} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function listen(server: http.Server, port: number, bind: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? `port ${port} is in use (choose another with --port, or --port 0 for any free one)` : err.message;
      reject(new UserError(`Cannot listen on ${urlHost(bind)}:${port}: ${why}`));
    };
    server.once('error', failed);
    server.listen(port, bind, () => {
      server.off('error', failed);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

export async function startWebServer(opts: WebOptions): Promise<WebServer> {
  const token = obtainToken(opts.tokenFile);
  const files = loadStaticFiles();
  const server = http.createServer();
  const port = await listen(server, opts.port, opts.bind);
  const auth = new Auth(token.value, port, new Set(reachableNames(opts.bind)));
  const feed = new AgentsFeed(opts.client);
  const sessions = new Set<WsSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: WebLimits.MaxMessageBytes });
  const log = opts.log ?? (() => {});
  const from = (req: http.IncomingMessage) => `${req.socket.remoteAddress ?? '?'} (origin ${JSON.stringify(req.headers.origin ?? null)}, host ${JSON.stringify(req.headers.host ?? null)})`;

  server.on('request', (req, res) => handleRequest(req, res, { auth, files, refused: (why) => log(`refused ${why} from ${from(req)}`) }));
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const no = (code: number, text: string, why: string) => {
      log(`refused a page's connection (${why}) from ${from(req)}`);
      refuse(socket, code, text);
    };
    if ((req.url ?? '').split('?')[0] !== '/ws') return no(404, 'Not Found', 'unknown path');
    if (!auth.hostOk(req)) return no(421, 'Misdirected Request', 'unknown host');
    // Cross-site WebSocket hijacking: a page elsewhere (even on another port of 127.0.0.1,
    // whose requests carry our SameSite cookie) may open a socket to us; only its Origin tells.
    if (!auth.originOk(req)) return no(403, 'Forbidden', 'foreign origin');
    if (!auth.signedIn(req)) return no(401, 'Unauthorized', 'not signed in');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const s = new WsSession(ws, { client: opts.client, feed, write: opts.write, version: VERSION });
      sessions.add(s);
      log(`page connected from ${req.socket.remoteAddress ?? '?'} (${sessions.size} open)`);
      ws.on('close', () => {
        sessions.delete(s);
        const f = s.flow.stats;
        log(
          `page left (${sessions.size} open): sent ${f.sentChars} chars, dropped ${f.droppedChars} it could not keep up with, ` +
            `${f.resyncs} fresh screens (the slowest took ${f.slowestScreenMs} ms)`,
        );
      });
    });
  });

  const wildcard = opts.bind === '0.0.0.0' || opts.bind === '::';
  const shownHost = wildcard ? '127.0.0.1' : urlHost(opts.bind);
  return {
    url: `http://${shownHost}:${port}/#token=${token.value}`,
    port,
    token,
    exposed: !isLoopback(opts.bind),
    host: shownHost,
    close: async () => {
      for (const s of sessions) s.close();
      sessions.clear();
      feed.close();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
