import { UserError } from '../../errors';
import type { ServerMessage } from '../../protocol/messages';
import type { AttachOptions } from '../backend';
import { SupervisorClient } from './client';
import { BEFORE_REPLAY, ON_ENTER, ON_LEAVE } from './terminal-modes';

// `agent attach` for the pty backend: the local terminal in raw mode shows the snapshot,
// then the live stream; keys go to the agent, except the detach key.

/** A lone detach key waits this long for a second press (which sends the key itself). */
const DOUBLE_PRESS_MS = 300;

function ignoreSignal(): void {}

export async function attachTerminal(id: string, socketPath: string, opts: AttachOptions): Promise<number> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  if (!stdin.isTTY) {
    throw new UserError(
      `agent attach needs a terminal, but stdin is not one. From scripts, use \`agent send ${id} TEXT --enter\`, \`agent capture ${id}\`, \`agent wait ${id} --idle\` or \`agent queue ${id} TEXT\`.`,
    );
  }
  const size = () => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  let client: SupervisorClient;
  try {
    client = await SupervisorClient.connect(socketPath, { mode: 'attach', readOnly: opts.readOnly, ...size() });
  } catch (err) {
    throw new UserError(`Cannot attach to agent session ${id}: ${(err as Error).message}`);
  }

  return new Promise<number>((resolve) => {
    let replayed = false;
    let leaving = false;
    let pendingDetach: NodeJS.Timeout | null = null;
    let waitingDrain = false;
    /** The agent's window size (from the snapshot and size messages): another viewer may set it. */
    let agentSize: { cols: number; rows: number } | null = null;
    // Told on leaving, not while attached: drawing over the agent's screen would corrupt it.
    const sizeNotice = (): string => {
      const own = size();
      if (!agentSize || (agentSize.cols === own.cols && agentSize.rows === own.rows)) return '';
      const why = opts.readOnly ? 'a read-only viewer never sets it' : 'another viewer sets it; typing a key takes it over';
      return `[${id}'s window is ${agentSize.cols}x${agentSize.rows}, this terminal is ${own.cols}x${own.rows}: ${why}]\r\n`;
    };

    const leave = (line: string | null, code: number, restore = true) => {
      if (leaving) return;
      leaving = true;
      if (pendingDetach) clearTimeout(pendingDetach);
      stdout.off('resize', onResize);
      process.off('SIGHUP', onHangup);
      process.off('SIGTERM', onTerm);
      stdin.off('data', onInput);
      if (restore) {
        // Restore and tell first, cooked mode last: once the terminal is cooked again, a
        // Ctrl-\\ or Ctrl-C typed right behind the detach key is a signal to us; it must
        // neither find the terminal in the agent's modes nor kill us before we are done.
        // Put the message under everything the agent drew.
        stdout.write(`${ON_LEAVE}\x1b[${size().rows};1H\r\n${line ? `${line}\r\n` : ''}${sizeNotice()}`);
        process.on('SIGQUIT', ignoreSignal);
        process.on('SIGINT', ignoreSignal);
        try {
          stdin.setRawMode(false);
        } catch {
          /* terminal gone */
        }
      }
      stdin.pause();
      client.close();
      resolve(code);
    };

    const pendingOut: Uint8Array[] = [];
    const flushOut = () => {
      if (leaving || pendingOut.length === 0) return;
      const data = pendingOut.length === 1 ? pendingOut[0]! : Buffer.concat(pendingOut);
      pendingOut.length = 0;
      if (!stdout.write(data) && !waitingDrain) {
        // Our terminal is slow: stop reading; the supervisor sees the backlog and later
        // sends a fresh snapshot instead of the flood.
        waitingDrain = true;
        client.socket.pause();
        stdout.once('drain', () => {
          waitingDrain = false;
          client.socket.resume();
        });
      }
    };
    const handleMessage = (m: ServerMessage) => {
      if (m.t !== 'output') flushOut(); // keep the order: earlier output first
      switch (m.t) {
        case 'snapshot':
          agentSize = { cols: m.cols, rows: m.rows };
          stdout.write(BEFORE_REPLAY + m.data);
          if (!replayed) {
            try {
              opts.onAttached();
            } catch {
              /* the record is best effort: the attach goes on */
            }
          }
          replayed = true;
          return;
        case 'size':
          agentSize = { cols: m.cols, rows: m.rows };
          return;
        case 'output':
          // All outputs of one socket read go to the terminal in one write.
          pendingOut.push(m.data);
          if (pendingOut.length === 1) process.nextTick(flushOut);
          return;
        case 'exit': {
          const how = m.signal ? `was killed by ${m.signal}` : `exited with code ${m.code}`;
          leave(`[${id} ${how}]`, 0);
          return;
        }
        case 'error':
          leave(`[${id}: ${m.message}]`, 1);
          return;
        default:
          return;
      }
    };
    client.onClose = () => leave(`[lost connection to ${id}]`, 1);

    const sendInput = (data: Buffer) => {
      if (!opts.readOnly && replayed && data.length > 0) client.send({ t: 'input', data });
    };
    const key = opts.detachKey;
    const onInput = (data: Buffer) => {
      let from = 0;
      if (pendingDetach && data.length > 0) {
        clearTimeout(pendingDetach);
        pendingDetach = null;
        // Another key right after a lone press: that press was a detach.
        if (data[0] !== key) return leave(`[detached from ${id}]`, 0);
        // Second press: the key itself goes to the agent.
        sendInput(Buffer.from([key]));
        from = 1;
      }
      for (let i = from; i < data.length; i++) {
        if (data[i] !== key) continue;
        sendInput(data.subarray(from, i));
        from = i + 1;
        if (i + 1 < data.length) {
          if (data[i + 1] === key) {
            sendInput(Buffer.from([key]));
            i++;
            from = i + 1;
            continue;
          }
          leave(`[detached from ${id}]`, 0);
          return;
        }
        pendingDetach = setTimeout(() => leave(`[detached from ${id}]`, 0), DOUBLE_PRESS_MS);
        return;
      }
      sendInput(data.subarray(from));
    };
    const onResize = () => {
      if (!opts.readOnly) client.send({ t: 'resize', ...size() });
    };
    // The terminal went away (ssh dropped, window closed): leave the agent untouched.
    const onHangup = () => leave(null, 0, false);
    const onTerm = () => leave(`[detached from ${id}]`, 0);

    stdin.setRawMode(true);
    stdout.write(ON_ENTER); // the agent's title replaces the user's until we leave
    stdin.resume();
    stdin.on('data', onInput);
    stdout.on('resize', onResize);
    process.on('SIGHUP', onHangup);
    process.on('SIGTERM', onTerm);
    // Last: messages that arrived with the welcome are delivered on this assignment, and
    // the terminal must already be raw (a Ctrl-\ typed as soon as the screen shows would
    // otherwise be a SIGQUIT) with every handler in place.
    client.onMessage = handleMessage;
  });
}
