import * as crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostName } from './bind-address';
import { WebLimits } from './limits';

// Who may use the server. The token (printed once, in the URL's fragment, which browsers
// never send) is exchanged once for a session cookie, HttpOnly and SameSite=Strict; the
// cookie is a fresh random value, not the token. Every request must name one of our host
// names (DNS rebinding); the exchange and every WebSocket upgrade must come from the very
// origin the request names:
// SameSite does not stop a page on another port of 127.0.0.1 (same site, ports do not
// count), checked in Chromium: only the Origin check refuses it.

function digest(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Compares secrets in constant time. Their SHA-256 digests are compared, so the lengths
 * are always equal: timingSafeEqual never throws and nothing leaks the token's length.
 */
export function sameSecret(given: string, expected: string): boolean {
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

/** 32 random bytes, URL-safe: a token or a session id. */
export function randomSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The value of cookie `name` in the request, if any. */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (header(req, 'cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class Auth {
  /** Named per port: cookies ignore ports, two servers on one machine would share one name. */
  readonly cookieName: string;
  /** Signed-in sessions, by the SHA-256 of their cookie (a lookup that reveals nothing of the value). */
  private readonly sessions = new Set<string>();

  constructor(
    private readonly token: string,
    port: number,
    /** The host names a request may name (with any port). */
    private readonly names: ReadonlySet<string>,
  ) {
    this.cookieName = `symposium_${port}`;
  }

  /** The request's Host when it names us, else null. */
  host(req: IncomingMessage): string | null {
    const host = header(req, 'host')?.toLowerCase();
    const name = host === undefined ? null : hostName(host);
    return name !== null && this.names.has(name) ? host! : null;
  }

  hostOk(req: IncomingMessage): boolean {
    return this.host(req) !== null;
  }

  /**
   * The request comes from a page of ours: its Origin is exactly http:// and the host it
   * asked for. A page of another port of the same machine has another Origin.
   */
  originOk(req: IncomingMessage): boolean {
    const host = this.host(req);
    return host !== null && header(req, 'origin')?.toLowerCase() === `http://${host}`;
  }

  tokenOk(given: string | undefined): boolean {
    return typeof given === 'string' && given.length > 0 && sameSecret(given, this.token);
  }

  /** A new signed-in session: the Set-Cookie header's value. */
  newSession(): string {
    const id = randomSecret();
    if (this.sessions.size >= WebLimits.MaxSessions) {
      const oldest = this.sessions.values().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    this.sessions.add(digest(id).toString('hex'));
    return `${this.cookieName}=${id}; HttpOnly; SameSite=Strict; Path=/`;
  }

  signedIn(req: IncomingMessage): boolean {
    const v = cookieValue(req, this.cookieName);
    return v !== undefined && v.length > 0 && this.sessions.has(digest(v).toString('hex'));
  }
}
