import { csiLength, readKey } from '../../keys/decode';
import { type KeyMode, encodeKey } from '../../keys/encode';

// A viewer's keys in the form the agent asked for. The replay asks the viewer's terminal
// for the agent's keyboard protocol (mirror/key-modes.ts), and for modifyOtherKeys as well
// when the agent asked for kitty flags alone; a terminal that speaks the other protocol
// (xterm's modifyOtherKeys against the agent's kitty flags, tmux's `CSI code;mod u` against
// an agent that asked for xterm's `CSI 27;mod;code ~`) or none reports a modified key its
// own way. Each modified key it reports is written again as the agent's protocol has it;
// everything else (text, legacy bytes, cursor keys, pastes) goes through as it is.

/** Modified keys that need no change for this mode, or that nothing else can express: null. */
function rewrite(seq: string, mode: KeyMode): string | null {
  const k = readKey(seq);
  if (!k) return null;
  if (mode.kittyFlags > 0) {
    if (k.form === 'csi-u') return null; // the terminal speaks the agent's protocol
    return encodeKey(k.key, mode).press;
  }
  // Neither kitty's release events nor its repeats mean anything to an agent that did not ask.
  if (k.event === 3) return '';
  if (mode.modifyOtherKeys > 0) {
    if (k.form === 'xterm' && !mode.formatOtherKeys) return null;
    return encodeKey(k.key, mode).press;
  }
  // Legacy: legacy bytes where they exist (`CSI 97;5u` is Ctrl-a, \x01), else the report as it came.
  const e = encodeKey(k.key, mode).press;
  return readKey(e) ? null : e;
}

/** The input with each reported modified key in the agent's form (the same buffer when nothing changes). */
export function translateKeys(data: Buffer, mode: KeyMode): Buffer {
  if (data.indexOf(0x1b) < 0) return data;
  let out: Buffer[] | null = null;
  let from = 0;
  for (let i = data.indexOf(0x1b); i >= 0 && i < data.length; i = data.indexOf(0x1b, i + 1)) {
    const len = csiLength(data, i);
    const last = len > 0 ? data[i + len - 1] : 0;
    if (last !== 0x75 /* u */ && last !== 0x7e /* ~ */) continue;
    const again = rewrite(data.toString('latin1', i, i + len), mode);
    if (again === null) continue;
    out ??= [];
    out.push(data.subarray(from, i), Buffer.from(again, 'latin1'));
    from = i + len;
    i += len - 1;
  }
  if (!out) return data;
  out.push(data.subarray(from));
  return Buffer.concat(out);
}
