import * as fs from 'node:fs';
import type * as net from 'node:net';
import { Recording } from '../../recording/limits';

// The supervisor leaving, once its agent has ended and the end files are saved
// (agent-end.ts): viewers and pending requests receive their last frames, then the socket,
// the status file and the native helper go, and the process exits once the recording and
// the user's hooks are done.

/** After the viewers' terminals are let go: control connections may still ask for the final screen (a `wait --exit` racing the end). */
const LAST_REQUESTS_MS = 100;
/** The connections' last frames are waited for at most this long… */
const FLUSH_WAIT_MS = 2000;
/** …checked this often. */
const FLUSH_CHECK_MS = 10;

/** A connection, as its last flush is watched. */
interface Closing {
  end(): void;
  readonly socket: { readonly destroyed: boolean };
  /** What it has not taken yet. */
  readonly backlog: number;
}

export interface ShutdownHost {
  readonly config: { readonly socketPath: string };
  readonly server: net.Server;
  /** The supervisor's own copy of the native helper (binary.ts), or null. */
  readonly nativeBinary: string | null;
  /** Everyone connected. */
  readonly conns: Iterable<Closing>;
  /** Terminals being let go at the end (their last output flushing). */
  readonly viewers: { readonly releasing: ReadonlyArray<Promise<void>> };
  /** The status file `list` reads. */
  readonly published: { close(): void };
  readonly end: { readonly recordingClosed: Promise<void> };
  /** The user's hooks (an on-exit notification). */
  readonly session: { settled(): Promise<void> };
}

/** Lets viewers and pending requests receive their last frames, then exits. */
export function shutdownSoon(host: ShutdownHost): void {
  const finish = () => {
    try {
      host.server.close();
      fs.unlinkSync(host.config.socketPath);
    } catch {
      /* gone */
    }
    host.published.close();
    // The helper was this supervisor's own copy (binary.ts): nobody runs it after us.
    if (host.nativeBinary) fs.rmSync(host.nativeBinary, { force: true });
    const late = new Promise<void>((r) => setTimeout(r, Recording.CloseWaitMs).unref());
    // The user's hooks (an on-exit notification) end first: each is killed by its timeout at the latest.
    void Promise.all([Promise.race([host.end.recordingClosed, late]), host.session.settled()]).then(() => process.exit(0));
  };
  // Viewers get the exit and close; control connections may still ask for the final
  // screen for a moment (a `wait --exit` racing the end).
  void Promise.all(host.viewers.releasing).then(() =>
    setTimeout(() => {
      // Ending a connection drops it from the set at once: keep them to watch their flush.
      const ending = [...host.conns];
      for (const c of ending) c.end();
      const deadline = Date.now() + FLUSH_WAIT_MS;
      const poll = setInterval(() => {
        const pending = ending.some((c) => !c.socket.destroyed && c.backlog > 0);
        if (!pending || Date.now() > deadline) {
          clearInterval(poll);
          finish();
        }
      }, FLUSH_CHECK_MS);
    }, LAST_REQUESTS_MS),
  );
}
