import type { IPty } from 'node-pty';
import type { ReadSocket } from '../../sys/socket-reads';

// What we reach inside node-pty (the pinned 1.1.0) beyond its public interface: the
// master's read stream, its descriptor and write queue, and the slave's path. Each read
// is guarded: without one, the feature that needs it is off (see agent-process.ts).

/** The master's read stream, with the parts a hard stop of its reads and its fallback destroy need. */
export interface PtyReadStream extends ReadSocket {
  destroy(err?: Error): unknown;
}

interface PtyView {
  _socket?: PtyReadStream;
  ptsName?: unknown;
  _writeStream?: { _fd?: unknown; _writeQueue?: unknown };
}

function view(pty: IPty): PtyView {
  return pty as unknown as PtyView;
}

/** The stream node-pty reads the master from; null when it is not what we expect. */
export function readStream(pty: IPty): PtyReadStream | null {
  const s = view(pty)._socket;
  return s && typeof s.destroy === 'function' && typeof s.pause === 'function' ? s : null;
}

/** The slave's path (/dev/pts/N), or null. */
export function slavePath(pty: IPty): string | null {
  const p = view(pty).ptsName;
  return typeof p === 'string' ? p : null;
}

/** The master's descriptor, or null. */
export function masterFd(pty: IPty): number | null {
  const fd = view(pty)._writeStream?._fd;
  return typeof fd === 'number' ? fd : null;
}

/** Writes node-pty still holds in its queue; null when the queue cannot be seen. */
export function queuedWrites(pty: IPty): number | null {
  const q = view(pty)._writeStream?._writeQueue;
  return Array.isArray(q) ? q.length : null;
}
