import { controlKey, csiLength, readKey } from './keys/decode';
import { CTRL } from './keys/names';

// The detach key, as both sides of an attach apply it (the attach client when it relays
// keys itself, the supervisor when it drives the viewer's terminal): pressed alone it
// detaches; pressed twice in a row it is sent to the agent once; followed by `r` it asks
// for a redraw (as tmux's prefix, r) and the attach goes on.
//
// The key comes as its control byte (Ctrl-\ is 0x1c), or, once the agent asked for a richer
// keyboard protocol that the replay passed on to the terminal, as that protocol's report
// (`CSI 92;5u`, `CSI 27;5;92~`). Release events (kitty's flag 2) and the modifier keys
// themselves (flag 8) are reported too: they neither detach nor count as the next key.

/** A lone detach key waits this long for a second press (which sends the key itself) or `r`. */
export const DOUBLE_PRESS_MS = 300;

/** The key after the detach key that asks for a redraw. */
export const REDRAW_KEY = 'r';

type Kind = 'detach' | 'redraw' | 'quiet' | 'key';

/** kitty's numbers for the modifier keys themselves (Shift… Meta, left and right). */
const MODIFIER_KEYS_FROM = 57441;
const MODIFIER_KEYS_TO = 57452;

export class DetachKeyFilter {
  private pending: NodeJS.Timeout | null = null;
  private done = false;
  private readonly char: string | null;

  constructor(
    private readonly key: number,
    /** Keys for the agent, in order (never empty). */
    private readonly send: (data: Buffer) => void,
    private readonly detach: () => void,
    /** Detach key then `r`; without it, `r` detaches like any other key. */
    private readonly redraw: (() => void) | null = null,
  ) {
    this.char = controlKey(key);
  }

  /** A lone press waits for a possible second one: the next keys must come here. */
  get waiting(): boolean {
    return this.pending !== null;
  }

  /** What the token at `i` is, and its length. */
  private token(data: Buffer, i: number): { kind: Kind; len: number } {
    const b = data[i]!;
    if (b === this.key) return { kind: 'detach', len: 1 };
    if (b === 0x72 /* r */) return { kind: this.redraw ? 'redraw' : 'key', len: 1 };
    if (b !== 0x1b) return { kind: 'key', len: 1 };
    const len = csiLength(data, i);
    if (len === 0) return { kind: 'key', len: 1 };
    const seq = data.toString('latin1', i, i + len);
    const code = /^\x1b\[(\d+)/.exec(seq);
    if (code && Number(code[1]) >= MODIFIER_KEYS_FROM && Number(code[1]) <= MODIFIER_KEYS_TO) return { kind: 'quiet', len };
    const k = readKey(seq);
    if (!k) return { kind: 'key', len };
    if (k.event === 3) return { kind: 'quiet', len };
    if (k.key.char === this.char && k.key.mods === CTRL) return { kind: 'detach', len };
    if (k.key.char === REDRAW_KEY && k.key.mods === 0 && this.redraw) return { kind: 'redraw', len };
    return { kind: 'key', len };
  }

  /** Keys as read from the terminal. */
  push(data: Buffer): void {
    if (this.done || data.length === 0) return;
    let from = 0; // start of what goes to the agent as it is
    let i = 0;
    while (i < data.length) {
      if (!this.pending) {
        // Only the detach key and escape sequences matter here: skip to the next one.
        while (i < data.length && data[i] !== this.key && data[i] !== 0x1b) i++;
        if (i >= data.length) break;
      }
      const t = this.token(data, i);
      if (this.pending) {
        // The key after a lone press decides; releases and modifier keys wait with it.
        if (t.kind === 'quiet') {
          i += t.len;
          from = i;
          continue;
        }
        clearTimeout(this.pending);
        this.pending = null;
        if (t.kind === 'key') return this.detachNow(); // another key right after a lone press: that press was a detach
        if (t.kind === 'detach') this.send(data.subarray(i, i + t.len)); // second press: the key itself, once
        else this.redraw?.();
        i += t.len;
        from = i;
        continue;
      }
      if (t.kind !== 'detach') {
        i += t.len;
        continue;
      }
      this.emit(data.subarray(from, i));
      i += t.len;
      from = i;
      this.pending = setTimeout(() => {
        this.pending = null;
        this.detachNow();
      }, DOUBLE_PRESS_MS);
    }
    if (!this.pending) this.emit(data.subarray(from));
  }

  cancel(): void {
    this.done = true;
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
  }

  private emit(data: Buffer): void {
    if (data.length > 0) this.send(data);
  }

  private detachNow(): void {
    this.cancel();
    this.detach();
  }
}
