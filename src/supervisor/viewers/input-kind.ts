// Sorts a viewer's input into what a person typed and what its terminal sent by itself:
// mouse reports, focus events and answers to the agent's queries. Only typing makes a
// viewer the size owner (tmux's `window-size latest`, zmx); only one viewer's answers
// to queries reach the agent, else a query seen by five viewers gets five answers.

export interface ClassifiedInput {
  /** True when at least one byte is a key press (not a report or an answer). */
  typed: boolean;
  /** The input without terminal answers (CPR, DA, DECRQM, OSC/DCS replies). */
  withoutAnswers: Buffer;
  /** True when the input contained terminal answers. */
  hadAnswers: boolean;
  /** How many cursor position reports it held (to settle the viewer's pending CPR queries). */
  cprAnswers: number;
}

export interface InputContext {
  /**
   * Cursor position queries this viewer was sent and has not answered yet. A report of
   * row 1 (`ESC [ 1 ; N R`) is byte for byte the key F3 with a modifier; it counts as an
   * answer only while a query is pending.
   */
  cprPending: number;
}

const ESC = 0x1b;
type Kind = 'answer' | 'report' | 'key' | 'cpr';

/** Length of the escape sequence at `i` and what it is. */
function scanEscape(b: Buffer, i: number): { len: number; kind: Kind } {
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
    if (final === 0x52 /* R */ && /^\??\d+;\d+(;\d+)?$/.test(body)) return { len, kind: 'cpr' }; // CPR, DECXCPR
    if (final === 0x63 /* c */ && /^[?>=]/.test(body)) return { len, kind: 'answer' }; // DA1/DA2/DA3
    if (final === 0x79 /* y */ && body.endsWith('$')) return { len, kind: 'answer' }; // DECRPM
    if (final === 0x6e /* n */ && body === '0') return { len, kind: 'answer' }; // DSR ok
    if (final === 0x75 /* u */ && body.startsWith('?')) return { len, kind: 'answer' }; // kitty keyboard flags
    if (final === 0x74 /* t */ && /^\d+;\d+;\d+$/.test(body)) return { len, kind: 'answer' }; // window size reports
    return { len, kind: 'key' };
  }
  if (next === 0x5d /* ] */ || next === 0x50 /* P */ || next === 0x5f /* _ */) {
    // OSC, DCS, APC replies: up to BEL or ST.
    for (let j = i + 2; j < b.length; j++) {
      if (b[j] === 0x07) return { len: j - i + 1, kind: 'answer' };
      if (b[j] === ESC && b[j + 1] === 0x5c) return { len: j - i + 2, kind: 'answer' };
    }
    // Nothing after the introducer: that is Alt+], Alt+P or Alt+_ typed, not a reply.
    if (i + 2 >= b.length) return { len: 2, kind: 'key' };
    return { len: b.length - i, kind: 'answer' };
  }
  return { len: 1, kind: 'key' };
}

/** Is this CPR-shaped sequence (`ESC [ body R`) a key (F3 with modifiers) rather than a report? */
function cprIsKey(b: Buffer, i: number, len: number, pending: number): boolean {
  return pending <= 0 && /^1;\d$/.test(b.subarray(i + 2, i + len - 1).toString('latin1'));
}

export function classifyInput(b: Buffer, ctx: InputContext = { cprPending: 0 }): ClassifiedInput {
  let typed = false;
  let hadAnswers = false;
  let cprAnswers = 0;
  const keep: Buffer[] = [];
  let i = 0;
  let from = 0;
  while (i < b.length) {
    if (b[i] !== ESC) {
      typed = true;
      i++;
      continue;
    }
    const scanned = scanEscape(b, i);
    const len = scanned.len;
    let kind = scanned.kind;
    if (kind === 'cpr') {
      if (cprIsKey(b, i, len, ctx.cprPending - cprAnswers)) kind = 'key';
      else {
        kind = 'answer';
        cprAnswers++;
      }
    }
    if (kind === 'key') typed = true;
    if (kind === 'answer') {
      hadAnswers = true;
      if (i > from) keep.push(b.subarray(from, i));
      from = i + len;
    }
    i += len;
  }
  if (!hadAnswers) return { typed, withoutAnswers: b, hadAnswers, cprAnswers };
  if (from < b.length) keep.push(b.subarray(from));
  return { typed, withoutAnswers: Buffer.concat(keep), hadAnswers, cprAnswers };
}

/** How many cursor position queries (`ESC [ 6 n`, `ESC [ ? 6 n`) a chunk of output holds. */
export function countCprQueries(data: Buffer): number {
  let n = 0;
  for (let at = data.indexOf('\x1b[6n'); at >= 0; at = data.indexOf('\x1b[6n', at + 4)) n++;
  for (let at = data.indexOf('\x1b[?6n'); at >= 0; at = data.indexOf('\x1b[?6n', at + 5)) n++;
  return n;
}
