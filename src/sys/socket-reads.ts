// Stopping and restarting a libuv stream's reads at once, for a second reader of the same
// descriptor (the native relay, fast-relay.ts). Node has no public call for this.

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
