import { UserError } from './errors';

// Named keys for `agent send --key`, in tmux's spelling (send-keys): Enter, Escape, C-c, M-x…

const NAMED: Record<string, string> = {
  enter: '\r',
  return: '\r',
  escape: '\x1b',
  esc: '\x1b',
  tab: '\t',
  btab: '\x1b[Z',
  space: ' ',
  bspace: '\x7f',
  backspace: '\x7f',
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  home: '\x1b[H',
  end: '\x1b[F',
  pageup: '\x1b[5~',
  ppage: '\x1b[5~',
  pagedown: '\x1b[6~',
  npage: '\x1b[6~',
  insert: '\x1b[2~',
  ic: '\x1b[2~',
  delete: '\x1b[3~',
  dc: '\x1b[3~',
  f1: '\x1bOP',
  f2: '\x1bOQ',
  f3: '\x1bOR',
  f4: '\x1bOS',
  f5: '\x1b[15~',
  f6: '\x1b[17~',
  f7: '\x1b[18~',
  f8: '\x1b[19~',
  f9: '\x1b[20~',
  f10: '\x1b[21~',
  f11: '\x1b[23~',
  f12: '\x1b[24~',
};

export const KEY_NAMES = ['Enter', 'Escape', 'Tab', 'BTab', 'Space', 'BSpace', 'Up', 'Down', 'Left', 'Right', 'Home', 'End', 'PageUp', 'PageDown', 'Insert', 'Delete', 'F1…F12', 'C-<key>', 'M-<key>'];

export function encodeKey(spec: string): string {
  const named = NAMED[spec.toLowerCase()];
  if (named !== undefined) return named;
  const meta = /^M-(.+)$/i.exec(spec);
  if (meta) return `\x1b${encodeKey(meta[1]!)}`;
  const ctrl = /^(?:C-|\^)(.)$/i.exec(spec);
  if (ctrl) {
    const c = ctrl[1]!;
    if (c === '?') return '\x7f';
    if (c === ' ' || c === '@' || c === '2') return '\x00';
    const code = c.toUpperCase().charCodeAt(0);
    if (code >= 0x40 && code <= 0x5f) return String.fromCharCode(code - 0x40);
  }
  if ([...spec].length === 1) return spec;
  throw new UserError(`Unknown key ${JSON.stringify(spec)}. Known keys: ${KEY_NAMES.join(', ')}`);
}
