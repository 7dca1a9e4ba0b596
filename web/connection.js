// Signing in and the page's one WebSocket. The token arrives in the URL's fragment (never
// sent to any server, never in logs or a Referer); it is removed from the address bar at
// once and traded for a session cookie (HttpOnly: this page cannot read it either).

const TOKEN_HEADER = 'X-Symposium-Token';

/** The token in `#token=…`, removed from the address bar and history. */
export function takeTokenFromAddress() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return decodeURIComponent(m[1]);
}

/** Trades the token for the cookie; true when accepted. */
export async function signIn(token) {
  const r = await fetch('/session', { method: 'POST', headers: { [TOKEN_HEADER]: token }, credentials: 'same-origin', cache: 'no-store' });
  return r.status === 204;
}

export async function signedIn() {
  const r = await fetch('/session', { credentials: 'same-origin', cache: 'no-store' });
  return r.status === 204;
}

/** Reconnects after a lost connection, waiting longer each time up to this (ms). */
const RETRY_MAX_MS = 10_000;

export class Connection {
  /**
   * onMessage(message) for every message; onState('live' | 'down' | 'signed-out').
   */
  constructor(onMessage, onState) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.ws = null;
    this.retryMs = 500;
    this.onOpen = () => {};
  }

  connect() {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.retryMs = 500;
      this.onState('live');
      this.onOpen();
    };
    ws.onmessage = (ev) => {
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.onMessage(m);
    };
    ws.onclose = async () => {
      if (this.ws !== ws) return;
      this.ws = null;
      // A refused upgrade looks like any failure from here: ask whether we are still signed in.
      if (!opened) {
        let ok = true;
        try {
          ok = await signedIn();
        } catch {
          /* the server is gone: retry below */
        }
        if (!ok) return this.onState('signed-out');
      }
      this.onState('down');
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    };
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }
}
