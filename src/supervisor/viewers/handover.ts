import { DetachKeyFilter } from '../../detach-key';
import type { TerminalHandover } from '../../protocol/messages';
import type { Connection } from './connection';
import { ViewerTerminal } from './viewer-terminal';
import { TerminalOutput } from './viewer-output';

// Taking over a viewer's terminal (protocol.md §8.6): its keys go through the detach key,
// then to the agent like any viewer's input; when it hangs up the viewer is gone.

export interface HandoverHost {
  /** Keys from a viewer (checked and delivered as `input` messages are). */
  input(c: Connection, data: Buffer): void;
  /** The viewer's terminal took all that was queued for it. */
  drained(c: Connection): void;
  /** The detach key, then r. */
  redraw(c: Connection): void;
}

/** Takes the terminal for `c`, as `fd` (opened and checked by peer-terminal.ts); returns its output. */
export function takeTerminal(host: HandoverHost, c: Connection, h: TerminalHandover, fd: number): TerminalOutput {
  const terminal = ViewerTerminal.adopt(fd, h.detachKey);
  const out = new TerminalOutput(c, terminal, h.hint);
  const keys = new DetachKeyFilter(
    h.detachKey,
    (data) => {
      if (!c.readOnly) host.input(c, data); // a read-only viewer's keys only detach
    },
    () => detachByKey(c),
    () => host.redraw(c),
  );
  terminal.onInput = (data) => keys.push(data);
  terminal.keysWaiting = () => keys.waiting;
  terminal.onGone = () => {
    keys.cancel();
    c.end();
  };
  terminal.onDrain = () => host.drained(c);
  return out;
}

/** The client restores its terminal when told, so it is told only once we have let go. */
function detachByKey(c: Connection): void {
  void c.releaseTerminal().then(() => {
    c.send({ t: 'detached', reason: 'key' });
    c.end();
  });
}
