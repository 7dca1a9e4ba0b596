// A net.Socket's libuv internals that Node has no public call for: stopping and restarting
// its reads at once, for a second reader of the same descriptor (the native relay,
// fast-relay.ts), and its descriptor (for the addon's calls on it).

/** The parts of a net.Socket that a hard stop of its reads needs. */
export interface ReadSocket {
  pause(): unknown;
  resume(): unknown;
  readonly readableLength: number;
  readonly destroyed: boolean;
  _handle?: { reading?: boolean; readStop?: () => number; readStart?: () => number } | null;
}

/**
 * pause() alone leaves libuv reading until one more chunk is buffered; a second reader of
 * the same descriptor needs the reads stopped now; unhaltSocket starts them again.
 */
export function haltSocket(s: ReadSocket): void {
  s.pause();
  const h = s._handle;
  if (h && h.reading !== false && typeof h.readStop === 'function') {
    h.reading = false;
    h.readStop();
  }
}

/**
 * The stream may still count a read as in progress (it was waiting for data when halted),
 * and then resume() alone would never start one: the handle is restarted here, as
 * net.Socket's own tryReadStart does.
 */
export function unhaltSocket(s: ReadSocket): void {
  const h = s._handle;
  if (!s.destroyed && h && h.reading === false && typeof h.readStart === 'function') {
    h.reading = true;
    h.readStart();
  }
  s.resume();
}

/** The descriptor libuv holds for `socket`, or -1 (not connected, or not a Unix stream). */
export function socketDescriptor(socket: object): number {
  const fd = (socket as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}
