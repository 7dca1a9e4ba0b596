import type { Terminal } from '@xterm/headless';
import type { KeyMode } from '../../keys/encode';

// The keyboard and input modes an agent sets that @xterm/headless 6.0.0 ignores (it has no
// handler for `CSI > u`, `CSI > 4;2 m`…) or keeps without @xterm/addon-serialize writing
// them: the kitty keyboard protocol's flag stacks, xterm's modifyOtherKeys and
// formatOtherKeys, every DEC private mode xterm does not keep itself (?1007 alternate
// scroll, ?2031 colour-scheme reports, ?1036 meta sends escape…), and the ANSI mode
// serialize does not write (20, new line: xterm keeps it, as convertEol). From them: what the
// replay sends so the viewer's terminal encodes keys as the agent asked (head before the
// screen, tail after it), and what undoes exactly that on leaving.
//
// Real agents: Claude Code pushes kitty flags 1 (`CSI > 1 u`) and sets modifyOtherKeys 2
// (`CSI > 4 ; 2 m`); Codex pushes kitty flags 5 or 7 and sets ?1007.
//
// kitty's model (kitty/screen.c): one stack of 8 slots per screen (main, alternate),
// switched with the screen; a push on an empty stack occupies slot 0 with flags 0 and
// slot 1 with the new flags; a full stack evicts its oldest slot; a pop clears slots from
// the top; `CSI = f ; m u` sets, ors or clears bits of the top slot (occupying slot 0 of an
// empty stack); RIS empties both. The current flags are those of the top occupied slot.

/** DEC private modes xterm 6.0.0 keeps itself (and serialize or modes.ts writes). */
const XTERM_KEEPS = new Set([1, 6, 7, 9, 25, 45, 66, 1000, 1002, 1003, 1004, 1006, 1016, 2004]);
/** Never replayed: they switch screens, resize, or are transient (shared/lessons.md). */
const NEVER_REPLAY = new Set([
  2, // DECANM: VT52 mode
  3, // DECCOLM: 80/132 columns, resizes and clears
  47, 1047, 1048, 1049, // alternate screen and saved cursor: the serialized screen does it
  2026, // synchronized output
  2048, // in-band resize reports: the window size is the supervisor's business
]);
/** ANSI modes (`CSI Pm h`) xterm keeps and serialize does not write: 20, LNM. */
const ANSI_MODES = new Set([20]);
/** kitty keeps 8 flag slots per screen. */
const KITTY_SLOTS = 8;
/** Autorepeat (DECARM) is on in every terminal by default. */
const AUTOREPEAT = 8;
/** modifyOtherKeys is XTMODKEYS resource 4, formatOtherKeys XTFMTKEYS resource 4. */
const OTHER_KEYS = 4;

class KittyStack {
  /** Occupied slots, bottom to top. */
  slots: number[] = [];

  get flags(): number {
    return this.slots.length > 0 ? this.slots[this.slots.length - 1]! : 0;
  }

  push(flags: number): void {
    if (this.slots.length === 0) this.slots.push(0);
    else if (this.slots.length === KITTY_SLOTS) this.slots.shift();
    this.slots.push(flags & 0x7f);
  }

  pop(n: number): void {
    this.slots.splice(Math.max(0, this.slots.length - n));
  }

  set(flags: number, how: number): void {
    if (this.slots.length === 0) this.slots.push(0);
    const top = this.slots.length - 1;
    const q = flags & 0x7f;
    if (how === 1) this.slots[top] = q;
    else if (how === 2) this.slots[top]! |= q;
    else if (how === 3) this.slots[top]! &= ~q;
  }

  /**
   * Entries this stack puts on a viewer's alternate stack. Slot 0 holding 0 is what a push
   * on an empty stack makes by itself: not an entry of ours.
   */
  get entries(): number {
    if (this.slots.length === 0) return 0;
    return this.slots[0] === 0 ? this.slots.length - 1 : this.slots.length;
  }

  /** Pushes only: a set would change the entry below ours, the shell's. */
  restore(): string {
    return this.slots
      .slice(this.slots[0] === 0 ? 1 : 0)
      .map((f) => `\x1b[>${f}u`)
      .join('');
  }

  undo(): string {
    return this.entries > 0 ? `\x1b[<${this.entries}u` : '';
  }

  /**
   * On the main screen the replay always pushes an entry of its own first, slot 0 (flags 0
   * when the agent never set any): the shell's own flags, if it keeps some while running a
   * program, do not leak into the agent's keys, and whatever the agent does after the
   * replay (a push on its empty stack makes slot 0 and slot 1, a set changes slot 0) lands
   * on entries of ours, so popping as many entries as the agent's stack has slots (at least
   * our one) gives the viewer's stack back exactly.
   */
  restoreWithBase(): string {
    const [base = 0, ...rest] = this.slots;
    return [base, ...rest].map((f) => `\x1b[>${f}u`).join('');
  }

  undoWithBase(): string {
    return `\x1b[<${Math.max(1, this.slots.length)}u`;
  }
}

export class KeyModeTracker {
  private readonly main = new KittyStack();
  private readonly alternate = new KittyStack();
  /** XTMODKEYS resources the agent set: Pp -> Pv (-1: disabled with `CSI > Pp n`). */
  private readonly modKeys = new Map<number, number>();
  /** XTFMTKEYS resources: Pp -> Pv. */
  private readonly fmtKeys = new Map<number, number>();
  /** DEC private modes xterm does not keep: mode -> set (true) or reset (false), as last written. */
  private readonly decModes = new Map<number, boolean>();
  /** ANSI_MODES the agent set or reset. */
  private readonly ansiModes = new Map<number, boolean>();
  /** Something above changed since the last look (see takeChanged). */
  private changed = false;

  constructor(private readonly term: Terminal) {
    const p = term.parser;
    const num = (v: number | number[] | undefined): number => (typeof v === 'number' ? v : Array.isArray(v) ? (v[0] ?? 0) : 0);
    const stack = () => (term.buffer.active.type === 'alternate' ? this.alternate : this.main);
    const changed = () => {
      this.changed = true;
      return false; // xterm sees the sequence too
    };
    p.registerCsiHandler({ prefix: '>', final: 'u' }, (ps) => (stack().push(num(ps[0])), changed()));
    // `CSI < u` and `CSI < 0 u` both reach us as [0]: pop one.
    p.registerCsiHandler({ prefix: '<', final: 'u' }, (ps) => (stack().pop(Math.max(1, num(ps[0]))), changed()));
    p.registerCsiHandler({ prefix: '=', final: 'u' }, (ps) => (stack().set(num(ps[0]), ps.length > 1 ? num(ps[1]) || 1 : 1), changed()));
    p.registerCsiHandler({ prefix: '>', final: 'm' }, (ps) => {
      // `CSI > m` (parameters [0]) resets every resource, `CSI > Pp m` one, `CSI > Pp ; Pv m` sets one.
      if (ps.length === 1 && num(ps[0]) === 0) this.modKeys.clear();
      else if (ps.length === 1) this.modKeys.delete(num(ps[0]));
      else this.modKeys.set(num(ps[0]), num(ps[1]));
      return changed();
    });
    p.registerCsiHandler({ prefix: '>', final: 'n' }, (ps) => (this.modKeys.set(num(ps[0]), -1), changed()));
    p.registerCsiHandler({ prefix: '>', final: 'f' }, (ps) => {
      if (ps.length === 1) this.fmtKeys.delete(num(ps[0]));
      else this.fmtKeys.set(num(ps[0]), num(ps[1]));
      return changed();
    });
    const dec = (ps: (number | number[])[], on: boolean) => {
      for (const v of ps) {
        if (typeof v !== 'number' || XTERM_KEEPS.has(v) || NEVER_REPLAY.has(v)) continue;
        this.decModes.set(v, on);
        this.changed = true;
      }
      return false;
    };
    p.registerCsiHandler({ prefix: '?', final: 'h' }, (ps) => dec(ps, true));
    p.registerCsiHandler({ prefix: '?', final: 'l' }, (ps) => dec(ps, false));
    const ansi = (ps: (number | number[])[], on: boolean) => {
      for (const v of ps) {
        if (typeof v !== 'number' || !ANSI_MODES.has(v)) continue;
        this.ansiModes.set(v, on);
        this.changed = true;
      }
      return false;
    };
    p.registerCsiHandler({ final: 'h' }, (ps) => ansi(ps, true));
    p.registerCsiHandler({ final: 'l' }, (ps) => ansi(ps, false));
    p.registerEscHandler({ final: 'c' }, () => {
      // RIS: kitty empties both stacks; xterm resets its key resources and modes.
      this.main.slots = [];
      this.alternate.slots = [];
      this.modKeys.clear();
      this.fmtKeys.clear();
      this.decModes.clear();
      this.ansiModes.clear();
      return changed();
    });
  }

  private get onAlternate(): boolean {
    return this.term.buffer.active.type === 'alternate';
  }

  /** The agent's kitty flags on the screen it is on (what `CSI ? u` answers). */
  get kittyFlags(): number {
    return (this.onAlternate ? this.alternate : this.main).flags;
  }

  /** The agent pushed or set kitty flags on either screen. */
  get usedKitty(): boolean {
    return this.main.slots.length > 0 || this.alternate.slots.length > 0;
  }

  /** An XTMODKEYS resource as the agent set it; undefined when it did not (XTQMODKEYS). */
  modKey(pp: number): number | undefined {
    return this.modKeys.get(pp);
  }

  /** A DEC private mode xterm does not keep, as the agent last set it; undefined if never (DECRQM). */
  decMode(mode: number): boolean | undefined {
    return this.decModes.get(mode);
  }

  /** How keys are to be encoded for the agent now (`send --key`, viewers' keys). */
  keyMode(): KeyMode {
    const mok = this.modKeys.get(OTHER_KEYS) ?? 0;
    return {
      kittyFlags: this.kittyFlags,
      modifyOtherKeys: mok < 0 ? 0 : mok,
      formatOtherKeys: this.fmtKeys.get(OTHER_KEYS) ?? 0,
      appCursor: this.term.modes.applicationCursorKeysMode,
    };
  }

  /** True once after any change (the supervisor then tells the viewers what undoes it). */
  takeChanged(): boolean {
    const c = this.changed;
    this.changed = false;
    return c;
  }

  /**
   * A terminal that speaks modifyOtherKeys and not the kitty protocol (xterm; tmux, with
   * `extended-keys on`) then still reports Shift+Enter and the like to an agent that asked
   * for kitty flags only (Codex): level 1 changes only keys that legacy encodings cannot
   * tell apart. What comes back is put in the agent's form (viewers/key-translate.ts).
   */
  private get extraModifyOtherKeys(): boolean {
    return this.usedKitty && (this.kittyFlags & 1) !== 0 && !this.modKeys.has(OTHER_KEYS);
  }

  /** Before the serialized screen (the viewer on its main screen, after BEFORE_REPLAY). */
  head(): string {
    return this.main.restoreWithBase();
  }

  /** After the serialized screen (on the alternate screen when the agent is there). */
  tail(): string {
    let out = this.onAlternate ? this.alternate.restore() : '';
    for (const [pp, pv] of this.modKeys) out += pv < 0 ? `\x1b[>${pp}n` : `\x1b[>${pp};${pv}m`;
    if (this.extraModifyOtherKeys) out += `\x1b[>${OTHER_KEYS};1m`;
    for (const [pp, pv] of this.fmtKeys) out += `\x1b[>${pp};${pv}f`;
    const set = [...this.decModes].filter(([, on]) => on).map(([m]) => m);
    const reset = [...this.decModes].filter(([, on]) => !on).map(([m]) => m);
    if (set.length) out += `\x1b[?${set.join(';')}h`;
    if (reset.length) out += `\x1b[?${reset.join(';')}l`;
    for (const [m, on] of this.ansiModes) if (on) out += `\x1b[${m}h`;
    return out;
  }

  /**
   * What undoes head() + tail() and what the agent did since, on a viewer's terminal that
   * is where the agent is (main or alternate screen): the kitty entries popped on each
   * screen (the alternate's first, before leaving it), the key resources back to the
   * terminal's own initial values (modifyOtherKeys always: the replay may have asked for
   * it, see extraModifyOtherKeys), the modes the agent set turned off. It may leave the
   * viewer on its main screen.
   */
  leave(): string {
    let out = '';
    // kitty keeps a stack per screen: each is popped while it is the active one.
    if (this.onAlternate) out += `${this.alternate.undo()}\x1b[?1049l`;
    out += this.main.undoWithBase();
    const resources = new Set([OTHER_KEYS, ...this.modKeys.keys()]);
    for (const pp of resources) out += `\x1b[>${pp}m`;
    for (const pp of this.fmtKeys.keys()) out += `\x1b[>${pp}f`;
    const set = [...this.decModes].filter(([m, on]) => on && m !== AUTOREPEAT).map(([m]) => m);
    if (set.length) out += `\x1b[?${set.join(';')}l`;
    if (this.decModes.get(AUTOREPEAT) === false) out += `\x1b[?${AUTOREPEAT}h`;
    for (const [m, on] of this.ansiModes) if (on) out += `\x1b[${m}l`;
    return out;
  }
}
