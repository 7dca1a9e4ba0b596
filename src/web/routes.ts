import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth } from './auth';
import { securityHeaders } from './security-headers';
import type { StaticFile } from './static-files';

// The HTTP endpoints (docs/web-protocol.md): the page's files, and /session, where the
// token is exchanged for the session cookie. Every request must name one of our host names.

export interface Routes {
  auth: Auth;
  files: ReadonlyMap<string, StaticFile>;
  /** Told of every refused sign-in or host (for the server's log). */
  refused: (why: string) => void;
}

/** The header the page sends the token in (a custom header also forces a CORS preflight we refuse). */
export const TOKEN_HEADER = 'x-symposium-token';

function end(req: IncomingMessage, res: ServerResponse, r: Routes, code: number, body = '', extra: Record<string, string> = {}): void {
  const headers: Record<string, string> = { ...securityHeaders(r.auth.host(req)), ...extra };
  if (body) headers['Content-Type'] = 'text/plain; charset=utf-8';
  res.writeHead(code, headers).end(body);
}

export function handleRequest(req: IncomingMessage, res: ServerResponse, r: Routes): void {
  if (!r.auth.hostOk(req)) {
    r.refused('a request for an unknown host');
    return end(req, res, r, 421, 'unknown host\n');
  }
  const path = (req.url ?? '/').split('?')[0]!;
  if (path === '/session') return session(req, res, r);
  if (req.method !== 'GET' && req.method !== 'HEAD') return end(req, res, r, 405, '', { Allow: 'GET, HEAD' });
  if (path === '/favicon.ico') return end(req, res, r, 204);
  const file = r.files.get(path);
  if (!file) return end(req, res, r, 404, 'not found\n');
  res.writeHead(200, { ...securityHeaders(r.auth.host(req)), 'Content-Type': file.type, 'Content-Length': String(file.body.length) });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

/** GET: signed in? (204 or 401). POST with the token: sign in (204 and the cookie, or 403). */
function session(req: IncomingMessage, res: ServerResponse, r: Routes): void {
  if (req.method === 'GET') return end(req, res, r, r.auth.signedIn(req) ? 204 : 401);
  if (req.method !== 'POST') return end(req, res, r, 405, '', { Allow: 'GET, POST' });
  req.resume(); // a body, if any, is not read
  // Browsers send Origin on every POST: a page elsewhere cannot trade a token it guessed.
  if (!r.auth.originOk(req)) {
    r.refused('a sign-in from a foreign origin');
    return end(req, res, r, 403, 'foreign origin\n');
  }
  const given = req.headers[TOKEN_HEADER];
  if (!r.auth.tokenOk(Array.isArray(given) ? given[0] : given)) {
    r.refused('a sign-in with a wrong token');
    return end(req, res, r, 403, 'wrong token\n');
  }
  end(req, res, r, 204, '', { 'Set-Cookie': r.auth.newSession() });
}
