import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { TitleHint } from '../../attach-hint';
import { DetachKeyFilter } from '../../detach-key';
import { UserError } from '../../errors';
import { RECORDS_ATTACH, type ServerMessage, type TerminalHandover } from '../../protocol/messages';
import { BEFORE_REPLAY, LEGACY_KEY_RESET, ON_ENTER, ON_LEAVE, TITLE_RESTORE } from '../../terminal-modes';
import { SupervisorLink } from '../../link/supervisor-link';
import { loadAddon, terminalRawOutput } from '../../sys/native-addon';
import type { TerminalAttachOptions } from '../backend';

// `agent attach` for the pty backend. The local terminal goes raw; then, as tmux does,
// the terminal is handed over: the supervisor writes the screen and the live output into
// it and reads the keys itself (one process between a key and its echo, not two), while
// this process waits for the end and forwards window size changes. When the supervisor
// cannot take the terminal (another mount namespace, stdout not the terminal, or
// SYMPOSIUM_ATTACH_RELAY=1), this process relays the stream and the keys itself.

/** How long a client leaving on its own waits for the supervisor to let go of the terminal. */
const RELEASE_WAIT_MS = 1000;

function ignoreSignal(): void {}

export async function attachTerminal(id: string, socketPath: string, opts: TerminalAttachOptions): Promise<number> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  if (!stdin.isTTY) {
    throw new UserError(
      `agent attach needs a terminal, but stdin is not one. From scripts, use \`agent send ${id} TEXT --enter\`, \`agent capture ${id}\`, \`agent wait ${id} --idle\` or \`agent queue ${id} TEXT\`.`,
    );
  }
  const size = () => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  // Raw before the supervisor may read the terminal (keys typed now must not be a line or
  // a signal); the title saved before the agent's replaces it.
  stdin.setRawMode(true);
  // Output processing off now, or while the supervisor answers the hello (see rawOutput).
  const rawNow = rawOutputNow();
  stdout.write(ON_ENTER);
  let rawDone = Promise.resolve();
  let client: SupervisorLink;
  try {
    client = await SupervisorLink.connect(socketPath, {
      mode: 'attach',
      readOnly: opts.readOnly,
      ...size(),
      terminal: handover(opts.detachKey, opts.hint),
      redraw: opts.redraw,
      afterHello: rawNow ? undefined : () => (rawDone = rawOutputByStty()),
    });
  } catch (err) {
    await rawDone; // else a late `stty -opost` would outlive the restore
    stdout.write(TITLE_RESTORE);
    stdin.setRawMode(false);
    throw new UserError(`Cannot attach to agent session ${id}: ${(err as Error).message}`);
  }
  const handedOver = client.welcome.session.terminal;
  // A supervisor that knows key modes undoes them itself in a terminal it was handed.
  const supervisorUndoes = handedOver && client.welcome.features.includes('key-modes');
  // A supervisor that records the attach itself (last_attached) spares us the session file.
  const supervisorRecords = client.welcome.features.includes(RECORDS_ATTACH);

  return new Promise<number>((resolve) => {
    let replayed = false;
    let leaving = false;
    /** What undoes the keyboard modes the supervisor gave our terminal (relaying only; null: an older supervisor). */
    let keyLeave: string | null = null;
    let waitingDrain = false;
    /**
     * Relaying, we show the attach hint ourselves (attach-hint.ts); a supervisor that took
     * the terminal shows it there, as only it knows where the agent's sequences end.
     */
    const hint = !handedOver && opts.hint ? new TitleHint(opts.hint, (bytes) => stdout.write(bytes)) : null;
    /** The agent's window size (from the snapshot and size messages): another viewer may set it. */
    let agentSize: { cols: number; rows: number } | null = null;
    // Told on leaving, not while attached: drawing over the agent's screen would corrupt it.
    const sizeNotice = (): string => {
      const own = size();
      if (!agentSize || (agentSize.cols === own.cols && agentSize.rows === own.rows)) return '';
      const why = opts.readOnly ? 'a read-only viewer never sets it' : 'another viewer sets it; typing a key takes it over';
      return `[${id}'s window is ${agentSize.cols}x${agentSize.rows}, this terminal is ${own.cols}x${own.rows}: ${why}]\r\n`;
    };

    const finish = (line: string | null, code: number, restore: boolean) => {
      if (restore) {
        // Restore and tell first, cooked mode last: once the terminal is cooked again, a
        // Ctrl-\\ or Ctrl-C typed right behind the detach key is a signal to us; it must
        // neither find the terminal in the agent's modes nor kill us before we are done.
        // Put the message under everything the agent drew.
        // What undoes the agent's keyboard modes: the supervisor wrote it into a terminal it
        // was handed; nothing to undo before any replay.
        const undo = supervisorUndoes || !replayed ? '' : (keyLeave ?? LEGACY_KEY_RESET);
        hint?.end(); // its title off our title stack first: ON_LEAVE pops the user's own
        stdout.write(`${undo}${ON_LEAVE}\x1b[${size().rows};1H\r\n${line ? `${line}\r\n` : ''}${sizeNotice()}`);
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
    /**
     * Ends the attach. `supervisorLetGo`: the supervisor no longer touches our terminal
     * (it said so, or it is gone); else, with a handed-over terminal, it is asked to let go
     * first, so that nothing it writes lands after our restore.
     */
    const leave = (line: string | null, code: number, opt: { restore?: boolean; supervisorLetGo?: boolean } = {}) => {
      if (leaving) return;
      leaving = true;
      keys?.cancel();
      stdout.off('resize', onResize);
      process.off('SIGHUP', onHangup);
      process.off('SIGTERM', onTerm);
      stdin.off('data', onInput);
      const restore = opt.restore ?? true;
      if (!handedOver || opt.supervisorLetGo || client.socket.destroyed) return finish(line, code, restore);
      client.send({ t: 'detach' });
      const timer = setTimeout(() => finish(line, code, restore), RELEASE_WAIT_MS);
      client.socket.once('close', () => {
        clearTimeout(timer);
        finish(line, code, restore);
      });
    };

    const pendingOut: Uint8Array[] = [];
    const flushOut = () => {
      if (leaving || pendingOut.length === 0) return;
      const data = pendingOut.length === 1 ? pendingOut[0]! : Buffer.concat(pendingOut);
      pendingOut.length = 0;
      const took = stdout.write(data);
      hint?.output(data);
      if (!took && !waitingDrain) {
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
    const shown = (cols: number, rows: number) => {
      agentSize = { cols, rows };
      if (!replayed && !supervisorRecords) {
        try {
          opts.onAttached();
        } catch {
          /* the record is best effort: the attach goes on */
        }
      }
      replayed = true;
    };
    const handleMessage = (m: ServerMessage) => {
      if (m.t !== 'output') flushOut(); // keep the order: earlier output first
      switch (m.t) {
        case 'snapshot':
          // A resync: first the hint off the title stack, then undo what our terminal holds
          // of the agent's keyboard modes. The first replay is followed by the hint.
          if (replayed) hint?.end();
          stdout.write((replayed ? (keyLeave ?? LEGACY_KEY_RESET) : '') + BEFORE_REPLAY + m.data);
          hint?.start(m.data);
          keyLeave = m.leave;
          shown(m.cols, m.rows);
          return;
        case 'leave':
          keyLeave = m.data;
          return;
        case 'shown':
          shown(m.cols, m.rows);
          return;
        case 'size':
          agentSize = { cols: m.cols, rows: m.rows };
          return;
        case 'output':
          // All outputs of one socket read go to the terminal in one write.
          pendingOut.push(m.data);
          if (pendingOut.length === 1) process.nextTick(flushOut);
          return;
        case 'detached':
          leave(`[detached from ${id}]`, 0, { supervisorLetGo: true });
          return;
        case 'exit': {
          const how = m.signal ? `was killed by ${m.signal}` : `exited with code ${m.code}`;
          leave(`[${id} ${how}]`, 0, { supervisorLetGo: true });
          return;
        }
        case 'error':
          leave(`[${id}: ${m.message}]`, 1, { supervisorLetGo: true });
          return;
        default:
          return;
      }
    };
    client.onClose = () => leave(`[lost connection to ${id}]`, 1, { supervisorLetGo: true });

    // Relaying: our keys, through the detach key, to the supervisor.
    const keys = handedOver
      ? null
      : new DetachKeyFilter(
          opts.detachKey,
          (data) => {
            if (!opts.readOnly && replayed) client.send({ t: 'input', data });
          },
          () => leave(`[detached from ${id}]`, 0),
          () => client.send({ t: 'redraw' }),
        );
    const onInput = (data: Buffer) => keys?.push(data);
    const onResize = () => {
      if (!opts.readOnly) client.send({ t: 'resize', ...size() });
    };
    // The terminal went away (ssh dropped, window closed): leave the agent untouched.
    const onHangup = () => leave(null, 0, { restore: false });
    const onTerm = () => leave(`[detached from ${id}]`, 0);

    if (!handedOver) {
      stdin.resume();
      stdin.on('data', onInput);
    }
    stdout.on('resize', onResize);
    process.on('SIGHUP', onHangup);
    process.on('SIGTERM', onTerm);
    // Last: messages that arrived with the welcome are delivered on this assignment, and
    // the terminal must already be raw (a Ctrl-\ typed as soon as the screen shows would
    // otherwise be a SIGQUIT) with every handler in place; and once output processing is off,
    // for the replay we write ourselves when relaying.
    void rawDone.then(() => {
      if (!leaving) client.onMessage = handleMessage;
    });
  });
}

/**
 * Output processing off too (OPOST), as tmux's client does (cfmakeraw): Node's raw mode
 * keeps ONLCR, and the kernel then handles every line of output apart (measured here: 15
 * ms to take a 390 KB replay, and a second more of CPU for a 100 MB flood). The agent's
 * bytes already have their CRs, from its own pty. Set through the native addon before
 * the hello (~0.3 ms with its loading), so that the replay always finds it off; false
 * without the addon. Cooked mode restores the saved state.
 */
function rawOutputNow(): boolean {
  return loadAddon() && terminalRawOutput(0) !== null;
}

/**
 * Without the addon, `stty -opost`, started once the hello is sent: starting a process
 * stops this one for 5-10 ms, better spent while the supervisor answers; a replay that
 * begins before it takes effect shows the same, only slower.
 */
function rawOutputByStty(): Promise<void> {
  return new Promise((resolve) => {
    try {
      const child = spawn('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
      child.on('error', () => resolve()); // no stty: output processing stays on, only slower
      child.on('exit', () => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * What the supervisor needs to take our terminal: its path and identity. None when output
 * does not go to the same terminal (`attach | tee log`): then we relay.
 */
function handover(detachKey: number, hint: string | null): TerminalHandover | null {
  if (process.env.SYMPOSIUM_ATTACH_RELAY === '1') return null;
  try {
    const input = fs.fstatSync(0);
    const output = fs.fstatSync(1);
    if (input.dev !== output.dev || input.ino !== output.ino) return null;
    const path = fs.readlinkSync('/proc/self/fd/0');
    if (!path.startsWith('/')) return null;
    return { path, dev: input.dev, ino: input.ino, detachKey, hint };
  } catch {
    return null;
  }
}
