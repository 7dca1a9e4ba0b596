// What a viewer's terminal is sent around a session: a reset before a
// replay (so the snapshot lands on a known state) and a full reset of every mode an agent
// may have turned on when it leaves (agent-deck #394, zmx: terminals left broken).
// The attach client writes them, or the supervisor when the terminal was handed over.
// Keyboard protocols are not reset blindly (a kitty pop would take the shell's own entry):
// the supervisor says what undoes exactly what the agent and the replay set (the
// snapshot's `leave`), written before these.

const MODES_OFF = [
  '\x1b[?1l', // application cursor keys
  '\x1b>', // application keypad (DECKPNM)
  '\x1b[?66l',
  '\x1b[?2004l', // bracketed paste
  '\x1b[4l', // insert
  '\x1b[20l', // new line mode (LF as CR LF)
  '\x1b[?6l', // origin
  '\x1b[?45l', // reverse wrap
  '\x1b[?1004l', // focus events
  '\x1b[?7h', // autowrap back on
  '\x1b[?9l\x1b[?1000l\x1b[?1001l\x1b[?1002l\x1b[?1003l', // mouse tracking
  '\x1b[?1005l\x1b[?1006l\x1b[?1015l\x1b[?1016l', // mouse encodings
  '\x1b[0 q', // cursor style: terminal default
  '\x1b]112\x07', // cursor colour: default
  '\x1b[?25h', // cursor visible
  '\x1b[0m', // attributes
  '\x1b]8;;\x1b\\', // no hyperlink (an agent killed inside one would link the shell's output)
  '\x1b(B\x1b)B\x1b*B\x1b+B\x0f', // character sets: ASCII in G0-G3, G0 in use (no line drawing)
  '\x1b[r', // scroll region: whole screen
].join('');

/** Saves the terminal's window title on its title stack (xterm, VTE…; others ignore it). */
export const ON_ENTER = '\x1b[22;0t';
/** Takes it back. */
export const TITLE_RESTORE = '\x1b[23;0t';

/** Before a snapshot: leave the alternate screen, reset modes, clear the screen, home. */
export const BEFORE_REPLAY = `\x1b[?1049l${MODES_OFF}\x1b[H\x1b[2J`;

/** On detach or exit: leave the alternate screen, reset every mode, the user's title back. */
export const ON_LEAVE = `\x1b[?1049l${MODES_OFF}${TITLE_RESTORE}`;

/**
 * For a supervisor that does not say what undoes the keyboard modes (older versions): a
 * kitty pop and modifyOtherKeys off, as those versions' clients wrote.
 */
export const LEGACY_KEY_RESET = '\x1b[<u\x1b[>4;0m';
