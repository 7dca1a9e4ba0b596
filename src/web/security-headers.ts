// The headers on every response. The Content-Security-Policy is the strictest that
// xterm.js 6 renders under (checked in Chromium 156): scripts only from this server (no
// inline script, no eval), connections only back to it. Inline styles are allowed because
// xterm's DOM renderer creates <style> elements and style attributes (with `style-src
// 'self'` alone it draws a proportional font, no cursor and no colours); terminal output
// never becomes HTML (xterm writes text nodes), so that relaxation has little to attack.
// No CORS at all: another origin can neither read our answers nor preflight a request.

/** `host`: the request's Host when it is one of ours (the page's WebSocket goes there). */
export function securityHeaders(host: string | null): Record<string, string> {
  // 'self' covers ws: in Chromium; older Safari needs the ws: origin named. (Chromium
  // refuses an IPv6 literal in a source list: that one is left to 'self'.)
  const socket = host !== null && !host.startsWith('[') ? ` ws://${host}` : '';
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `connect-src 'self'${socket}`,
    "img-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
  };
}
