import type { Terminal } from '@xterm/headless';
import { VERSION } from '../../version';
import type { KeyModeTracker } from './key-modes';
import { parserState } from './xterm-internals';

// Answers to the terminal queries @xterm/headless 6.0.0 leaves unanswered (it answers DA1,
// DA2, CPR, DSR and DECRQM itself), given as the next viewer's terminal would: with what
// the last viewer's terminal answered when we saw it, else documented defaults. They go
// out through the same channel as xterm's own answers (term.input → onData), in the parse
// order, so the supervisor's rule applies unchanged: they reach the agent only while no
// viewer's real terminal is there to answer. Each handler that answers returns true, so
// neither xterm (DECRQM) nor a later xterm that learnt the query answers a second time.
//
//   XTVERSION    CSI > q              DCS > | name(version) ST
//   kitty flags  CSI ? u              CSI ? flags u, when the agent pushed flags or the last
//                                     viewer's terminal spoke the protocol; else no answer, so
//                                     the agent's DA1 sentinel says "no kitty" (legacy keys,
//                                     which every viewer can send)
//   XTQMODKEYS   CSI ? Pp m           CSI > Pp ; Pv m
//   DECRQM       CSI ? Ps $ p         CSI ? Ps ; 1|2 $ y for the modes key-modes.ts tracks;
//                                     xterm answers the others (0 for those it does not know)
//   colour theme CSI ? 996 n          CSI ? 997 ; 1 (dark) | 2 (light) n, from the background
//   colours      OSC 10/11/12 ; ?     OSC 1x ; rgb:RRRR/GGGG/BBBB, ended as the query was
//   palette      OSC 4 ; n ; ?        xterm's 256-colour palette, or what the agent set

export type Rgb = readonly [number, number, number];

/** What we learnt of the last answering viewer's terminal from its answers. */
export interface TerminalFacts {
  /** Its XTVERSION text (`tmux 3.3a`). */
  version: string | null;
  foreground: Rgb | null;
  background: Rgb | null;
  cursor: Rgb | null;
  /** It answered the kitty keyboard query. */
  kitty: boolean;
}

/** xterm's colour 7 on black: what is answered for colours before any viewer told us its own. */
export const DEFAULT_FOREGROUND: Rgb = [0xe5, 0xe5, 0xe5];
export const DEFAULT_BACKGROUND: Rgb = [0, 0, 0];
/** Our own XTVERSION, until a viewer's terminal answered one. */
export const OWN_VERSION = `symposium-mcp(${VERSION})`;

const ESC = '\x1b';
const BEL = '\x07';
const ST = `${ESC}\\`;

function hex4(v: number): string {
  return v.toString(16).padStart(2, '0').repeat(2);
}

export function rgbSpec([r, g, b]: Rgb): string {
  return `rgb:${hex4(r)}/${hex4(g)}/${hex4(b)}`;
}

/** `#rrggbb` or `rgb:r/g/b` (1 to 4 hex digits a channel) as 8-bit channels; null otherwise. */
export function parseColor(s: string): Rgb | null {
  let m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(s);
  if (m) return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
  m = /^rgb:([0-9a-f]{1,4})\/([0-9a-f]{1,4})\/([0-9a-f]{1,4})$/i.exec(s);
  if (!m) return null;
  const ch = (h: string) => Math.round((parseInt(h, 16) / (16 ** h.length - 1)) * 255);
  return [ch(m[1]!), ch(m[2]!), ch(m[3]!)];
}

/** xterm's default 256-colour palette. */
function defaultPalette(): Rgb[] {
  const p: Rgb[] = [
    [0, 0, 0], [205, 0, 0], [0, 205, 0], [205, 205, 0], [0, 0, 238], [205, 0, 205], [0, 205, 205], [229, 229, 229],
    [127, 127, 127], [255, 0, 0], [0, 255, 0], [255, 255, 0], [92, 92, 255], [255, 0, 255], [0, 255, 255], [255, 255, 255],
  ];
  const v = [0, 95, 135, 175, 215, 255];
  for (let i = 0; i < 216; i++) p.push([v[Math.floor(i / 36)]!, v[Math.floor(i / 6) % 6]!, v[i % 6]!]);
  for (let i = 0; i < 24; i++) p.push([8 + i * 10, 8 + i * 10, 8 + i * 10]);
  return p;
}

/** Dark when the background's luminance is under half (what terminals answering ?996 do). */
function isLight([r, g, b]: Rgb): boolean {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b >= 128;
}

export class QueryAnswers {
  /** Colours the agent set (OSC 10/11/12): they win over the viewer's. */
  private readonly set = new Map<number, Rgb>();
  private palette = defaultPalette();
  /** OSC answers waiting for their terminator (ST arrives as ESC \ right after the OSC). */
  private pending: string[] = [];

  constructor(
    private readonly term: Terminal,
    private readonly keyModes: KeyModeTracker,
    private readonly facts: () => TerminalFacts,
  ) {
    const p = term.parser;
    const num = (v: number | number[] | undefined) => (typeof v === 'number' ? v : 0);
    p.registerCsiHandler({ prefix: '>', final: 'q' }, (ps) => {
      if (num(ps[0]) !== 0) return false;
      return this.answer(`${ESC}P>|${this.facts().version ?? OWN_VERSION}${ST}`);
    });
    p.registerCsiHandler({ prefix: '?', final: 'u' }, () => {
      if (!this.keyModes.usedKitty && !this.facts().kitty) return true; // unanswered: see above
      return this.answer(`${ESC}[?${this.keyModes.kittyFlags}u`);
    });
    p.registerCsiHandler({ prefix: '?', final: 'm' }, (ps) => {
      const pp = num(ps[0]);
      const v = this.keyModes.modKey(pp);
      return this.answer(v === undefined ? `${ESC}[>${pp}m` : `${ESC}[>${pp};${Math.max(v, 0)}m`);
    });
    p.registerCsiHandler({ prefix: '?', intermediates: '$', final: 'p' }, (ps) => {
      const mode = num(ps[0]);
      const on = this.keyModes.decMode(mode);
      if (on === undefined) return false; // xterm answers: its own modes, or 0 for unknown ones
      return this.answer(`${ESC}[?${mode};${on ? 1 : 2}$y`);
    });
    p.registerCsiHandler({ prefix: '?', final: 'n' }, (ps) => {
      this.flush(BEL);
      if (num(ps[0]) !== 996) return false;
      return this.answer(`${ESC}[?997;${isLight(this.colour(11)) ? 2 : 1}n`);
    });
    // Queries xterm answers itself: a pending OSC answer goes first, to keep the order.
    const flushFirst = (id: { prefix?: string; intermediates?: string; final: string }) => p.registerCsiHandler(id, () => (this.flush(BEL), false));
    flushFirst({ final: 'c' });
    flushFirst({ prefix: '>', final: 'c' });
    flushFirst({ final: 'n' });
    flushFirst({ intermediates: '$', final: 'p' });
    flushFirst({ final: 't' });
    p.registerEscHandler({ final: '\\' }, () => (this.flush(ST), false));
    for (const id of [10, 11, 12]) p.registerOscHandler(id, (data) => this.dynamicColour(id, data));
    for (const id of [110, 111, 112]) p.registerOscHandler(id, () => (this.set.delete(id - 100), false));
    p.registerOscHandler(4, (data) => this.paletteColour(data));
    p.registerOscHandler(104, () => ((this.palette = defaultPalette()), false));
  }

  /** OSC 10 foreground, 11 background, 12 cursor: the agent's, else the viewer's, else the default. */
  private colour(which: number): Rgb {
    const f = this.facts();
    const viewer = which === 10 ? f.foreground : which === 11 ? f.background : (f.cursor ?? f.foreground);
    return this.set.get(which) ?? viewer ?? (which === 11 ? DEFAULT_BACKGROUND : DEFAULT_FOREGROUND);
  }

  private answer(s: string): boolean {
    this.flush(BEL);
    this.term.input(s, false);
    return true;
  }

  /** `OSC 10 ; ?`, `OSC 10 ; ? ; ?` (10 then 11), or a colour the agent sets (remembered; xterm sees it too). */
  private dynamicColour(id: number, data: string): boolean {
    let asked = false;
    data.split(';').forEach((s, i) => {
      const which = id + i;
      if (which > 12) return;
      if (s === '?') {
        asked = true;
        this.pending.push(`${ESC}]${which};${rgbSpec(this.colour(which))}`);
      } else {
        const c = parseColor(s);
        if (c) this.set.set(which, c);
      }
    });
    if (asked) this.scheduleFlush();
    return asked;
  }

  private paletteColour(data: string): boolean {
    const parts = data.split(';');
    let asked = false;
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const n = Number(parts[i]);
      if (!(Number.isInteger(n) && n >= 0 && n < 256)) continue;
      if (parts[i + 1] === '?') {
        asked = true;
        this.pending.push(`${ESC}]4;${n};${rgbSpec(this.palette[n]!)}`);
      } else {
        const c = parseColor(parts[i + 1]!);
        if (c) this.palette[n] = c;
      }
    }
    if (asked) this.scheduleFlush();
    return false;
  }

  /**
   * xterm's OSC handlers are not told whether BEL or ST ended the string; an ST arrives
   * next as ESC \, which flushes with ST. Otherwise the answer goes with BEL once this parse
   * run is over, unless the parser sits on an ESC (an ST split across two chunks: the next
   * chunk's `\` flushes then).
   */
  private scheduleFlush(): void {
    queueMicrotask(() => {
      if (parserState(this.term) === 1 /* ESCAPE */) return;
      this.flush(BEL);
    });
  }

  private flush(terminator: string): void {
    if (this.pending.length === 0) return;
    const out = this.pending.map((a) => a + terminator).join('');
    this.pending = [];
    this.term.input(out, false);
  }
}

/** What a viewer's answers to the agent's queries tell of its terminal (`input` answers, see input-kind.ts). */
export function factsFromAnswers(input: string): Partial<TerminalFacts> {
  const out: Partial<TerminalFacts> = {};
  const version = /\x1bP>\|([^\x1b\x07]{1,200})(?:\x1b\\|\x07)/.exec(input);
  if (version) out.version = version[1]!;
  for (const m of input.matchAll(/\x1b\](1[012]);([^\x1b\x07]{1,100})(?:\x1b\\|\x07)/g)) {
    const c = parseColor(m[2]!);
    if (!c) continue;
    if (m[1] === '10') out.foreground = c;
    else if (m[1] === '11') out.background = c;
    else out.cursor = c;
  }
  if (/\x1b\[\?\d+u/.test(input)) out.kitty = true;
  return out;
}
