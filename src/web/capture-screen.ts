import type { Capture } from '../client/types';

// A captured screen (text, with colours when asked) as what a terminal needs to draw it:
// lines joined by CR LF from the home position, then the cursor where the agent left it.
// Used where there is no stream to replay (tmux sessions, agents that have ended).

export function screenFromCapture(c: Capture): string {
  const lines = c.text.split('\n').slice(0, c.rows);
  let out = `\x1b[H\x1b[2J${lines.join('\x1b[0m\r\n')}\x1b[0m`;
  if (c.cursor) out += `\x1b[${c.cursor.y + 1};${c.cursor.x + 1}H`;
  return out;
}
