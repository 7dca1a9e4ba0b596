// Sorts a viewer's input into what a person typed and what its terminal sent by itself:
// mouse reports, focus events and answers to the agent's queries. Only typing makes a
// viewer the size owner (tmux's `window-size latest`, zmx); only one viewer's answers
// to queries reach the agent, else a query sent to five viewers gets five answers.

export interface ClassifiedInput {
  /** True when at least one byte is a key press (not a report or an answer). */
  typed: boolean;
  /** The input without terminal answers (CPR, DA, DECRQM, OSC/DCS replies). */
  withoutAnswers: Buffer;
  /** True when the input contained terminal answers. */
  hadAnswers: boolean;
}

const ESC = 0x1b;

/** Length of the escape sequence at `i` and whether it is an answer, a report or a key. */
function scanEscape(b: Buffer, i: number): { len: number; kind: 'answer' | 'report' | 'key' } {
  const next = b[i + 1];
  if (next === undefined) return { len: 1, kind: 'key' };
  if (next === 0x5b /* [ */) {
    // X10 mouse: ESC [ M Cb Cx Cy
    if (b[i + 2] === 0x4d && i + 5 < b.length) return { len: 6, kind: 'report' };
    let j = i + 2;
    while (j < b.length && b[j]! >= 0x20 && b[j]! <= 0x3f) j++; // params and intermediates
    if (j >= b.length) return { len: b.length - i, kind: 'key' };
    const final = b[j]!;
    const body = b.subarray(i + 2, j).toString('latin1');
    const len = j - i + 1;
    if (body.startsWith('<') && (final === 0x4d || final === 0x6d)) return { len, kind: 'report' }; // SGR mouse
    if (body === '' && (final === 0x49 || final === 0x4f)) return { len, kind: 'report' }; // focus in/out
    if (final === 0x52 /* R */ && /^\??\d+;\d+$/.test(body) && !/^1;\d$/.test(body)) return { len, kind: 'answer' }; // CPR (not F3+mods)
    if (final === 0x63 /* c */ && /^[?>=]/.test(body)) return { len, kind: 'answer' }; // DA1/DA2/DA3
    if (final === 0x79 /* y */ && body.endsWith('$')) return { len, kind: 'answer' }; // DECRPM
    if (final === 0x6e /* n */ && body === '0') return { len, kind: 'answer' }; // DSR ok
    if (final === 0x75 /* u */ && body.startsWith('?')) return { len, kind: 'answer' }; // kitty keyboard flags
    if (final === 0x74 /* t */ && /^\d+(;\d+)*$/.test(body) && body.split(';').length === 3) return { len, kind: 'answer' }; // window size reports
    return { len, kind: 'key' };
  }
  if (next === 0x5d /* ] */ || next === 0x50 /* P */ || next === 0x5f /* _ */) {
    // OSC, DCS, APC replies: up to BEL or ST.
    for (let j = i + 2; j < b.length; j++) {
      if (b[j] === 0x07) return { len: j - i + 1, kind: 'answer' };
      if (b[j] === ESC && b[j + 1] === 0x5c) return { len: j - i + 2, kind: 'answer' };
    }
    return { len: b.length - i, kind: 'answer' };
  }
  return { len: 1, kind: 'key' };
}

export function classifyInput(b: Buffer): ClassifiedInput {
  let typed = false;
  let hadAnswers = false;
  const keep: Buffer[] = [];
  let i = 0;
  let from = 0;
  while (i < b.length) {
    if (b[i] !== ESC) {
      typed = true;
      i++;
      continue;
    }
    const { len, kind } = scanEscape(b, i);
    if (kind === 'key') typed = true;
    if (kind === 'answer') {
      hadAnswers = true;
      if (i > from) keep.push(b.subarray(from, i));
      from = i + len;
    }
    i += len;
  }
  if (!hadAnswers) return { typed, withoutAnswers: b, hadAnswers };
  if (from < b.length) keep.push(b.subarray(from));
  return { typed, withoutAnswers: Buffer.concat(keep), hadAnswers };
}
