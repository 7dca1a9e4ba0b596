import * as net from 'node:net';
import * as os from 'node:os';

// Which address the server listens on, and the names a browser may use to reach it: every
// request's Host must be one of them (anything else is DNS rebinding: a foreign name that
// resolves to this address, whose pages would otherwise be same-origin with ours). Any
// port goes with them: an SSH tunnel may forward another local port to ours, and a name
// is what a rebinding attacker controls, not the port.

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** 127.0.0.0/8 or ::1 (or localhost): reachable from this machine only. */
export function isLoopback(addr: string): boolean {
  if (addr === 'localhost') return true;
  if (net.isIPv4(addr)) return addr.startsWith('127.');
  if (net.isIPv6(addr)) return addr === '::1' || /^::ffff:127\./i.test(addr);
  return false;
}

/** An address as it appears in a URL's host (IPv6 in brackets). */
export function urlHost(addr: string): string {
  return net.isIPv6(addr) ? `[${addr}]` : addr;
}

/** The host names (without the port) a browser may use to reach `bind`. */
export function reachableNames(bind: string): string[] {
  const names = new Set(LOOPBACK_NAMES);
  if (bind === '0.0.0.0' || bind === '::') {
    // Every address of this machine, and its name: we cannot know which one the browser uses.
    for (const list of Object.values(os.networkInterfaces())) {
      for (const a of list ?? []) if (bind === '::' || a.family === 'IPv4') names.add(urlHost(a.address.replace(/%.*$/, '')));
    }
    names.add(os.hostname().toLowerCase());
  } else {
    names.add(urlHost(bind.toLowerCase()));
  }
  return [...names];
}

/** The name in a Host header (`name`, `name:port`, `[v6]:port`), lower case; null if malformed. */
export function hostName(host: string): string | null {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(host);
  return m ? m[1]!.toLowerCase() : null;
}
