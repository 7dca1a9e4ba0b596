// The attach hint: a first-time user learns how to leave without reading the README.
// For the first seconds of an attach the terminal's window title says the detach key
// ("Ctrl-\ to detach from demo"); then the title goes back to what it was. Whoever writes
// the agent's stream into the terminal shows it: the supervisor when the terminal was
// handed over (protocol.md §8.6), the attach client when it relays.
//
// Why the title and not a line on the screen: an attach shows exactly the agent's screen
// (the reset before the replay clears anything printed before it, and anything drawn over
// the replay would corrupt it). The title is outside the screen. It is pushed on xterm's
// title stack (`CSI 22;0t`) and popped (`CSI 23;0t`), so that neither the agent's title
// nor the user's is lost; the title the agent set last is written again after the pop,
// for terminals without a stack. Nothing is ever written inside the agent's escape
// sequences or UTF-8 characters: the restore waits for a boundary of the stream.

/** How long the hint stays in the title. */
export const HINT_MS = 4000;
/** The hint's length at most (a title bar shows less anyway). */
export const HINT_MAX_CHARS = 200;
/** Titles longer than this are not kept to be written again (the pop still restores them). */
const MAX_TITLE_BYTES = 4096;

const PUSH_TITLE = '\x1b[22;0t';
const POP_TITLE = '\x1b[23;0t';

/** The environment variable that turns the hint off (`0`), as `attach --no-hint` does. */
export const HINT_ENV = 'SYMPOSIUM_ATTACH_HINT';

/** Whether attach shows the hint: on unless `--no-hint` (false) or SYMPOSIUM_ATTACH_HINT=0. */
export function hintWanted(option: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (option === false) return false;
  if (option === true) return true;
  return env[HINT_ENV] !== '0';
}

/** How people write a control key: `Ctrl-\`, `Ctrl-]`, `Ctrl-b` (as tmux's `C-b`). */
export function detachKeyName(key: number): string {
  if (key === 0x7f) return 'Ctrl-?';
  if (key < 0x20) return `Ctrl-${String.fromCharCode(key + 0x40).toLowerCase()}`;
  return `0x${key.toString(16)}`;
}

/** The hint's text for agent `id`. */
export function hintText(id: string, detachKey: number): string {
  return `${detachKeyName(detachKey)} to detach from ${id}`;
}

/** What may go inside a title sequence: no control characters (they would end or break it), bounded. */
export function safeTitle(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, '').slice(0, HINT_MAX_CHARS);
}

const enum State {
  Ground,
  Esc,
  /** ESC then intermediates (`ESC ( B`): the next final byte ends it. */
  EscInter,
  Csi,
  /** OSC, DCS, SOS, PM, APC: until BEL or ST. */
  Str,
  /** ESC inside a string: `\` ends it (ST), anything else aborts it and starts a new sequence. */
  StrEsc,
}

/**
 * Follows a terminal stream far enough to tell whether it is between two escape
 * sequences and two UTF-8 characters (a place where bytes of our own can be written
 * without breaking the agent's), and which titles it set.
 */
export class StreamBoundary {
  private s = State.Ground;
  private utf8Left = 0;
  /** The OSC being read (its payload so far); null: not an OSC, or too long to keep. */
  private osc: number[] | null = null;
  private isOsc = false;
  /** The window and icon titles the stream set last (OSC 0, 1, 2); null: none seen. */
  windowTitle: string | null = null;
  iconTitle: string | null = null;

  get atBoundary(): boolean {
    return this.s === State.Ground && this.utf8Left === 0;
  }

  feed(chunk: Uint8Array | string): void {
    const data = asBuffer(chunk);
    let i = 0;
    while (i < data.length) {
      if (this.s === State.Ground) {
        // Text, the bulk of any output: jump to the next ESC; only its UTF-8 tail matters.
        while (this.utf8Left > 0 && i < data.length && (data[i]! & 0xc0) === 0x80) {
          this.utf8Left--;
          i++;
        }
        if (i >= data.length) return;
        this.utf8Left = 0;
        const esc = data.indexOf(0x1b, i);
        if (esc < 0) {
          this.utf8Left = utf8Missing(data, i);
          return;
        }
        this.s = State.Esc;
        i = esc + 1;
        continue;
      }
      this.step(data[i]!);
      i++;
    }
  }

  private step(b: number): void {
    if (b === 0x18 || b === 0x1a) {
      // CAN and SUB abort any sequence.
      this.s = State.Ground;
      return;
    }
    switch (this.s) {
      case State.Esc:
      case State.EscInter:
        return this.escByte(b);
      case State.Csi:
        if (b === 0x1b) this.s = State.Esc;
        else if (b >= 0x40 && b <= 0x7e) this.s = State.Ground;
        return;
      case State.Str:
        if (b === 0x07) return this.endString();
        if (b === 0x1b) {
          this.s = State.StrEsc;
          return;
        }
        if (this.osc) {
          if (this.osc.length < MAX_TITLE_BYTES) this.osc.push(b);
          else this.osc = null;
        }
        return;
      case State.StrEsc:
        if (b === 0x5c) return this.endString();
        this.osc = null;
        this.s = State.Esc;
        return this.escByte(b);
      default:
        return;
    }
  }

  private escByte(b: number): void {
    if (b === 0x1b) {
      this.s = State.Esc;
    } else if (b < 0x20) {
      // A control inside ESC is carried out; the sequence goes on.
    } else if (b <= 0x2f) {
      this.s = State.EscInter;
    } else if (this.s === State.Esc && b === 0x5b) {
      this.s = State.Csi;
    } else if (this.s === State.Esc && (b === 0x5d || b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f)) {
      this.s = State.Str;
      this.isOsc = b === 0x5d;
      this.osc = this.isOsc ? [] : null;
    } else {
      this.s = State.Ground;
    }
  }

  private endString(): void {
    this.s = State.Ground;
    const payload = this.osc;
    this.osc = null;
    if (!this.isOsc || !payload) return;
    const text = Buffer.from(payload).toString('utf8');
    const m = /^([012]);/.exec(text);
    if (!m) return;
    const title = text.slice(2);
    if (m[1] !== '1') this.windowTitle = title;
    if (m[1] !== '2') this.iconTitle = title;
  }

  /** What sets the titles seen again (after a pop, for terminals without a title stack). */
  titlesAgain(): string {
    const w = this.windowTitle;
    const i = this.iconTitle;
    if (w !== null && w === i) return `\x1b]0;${w}\x07`;
    return (i !== null ? `\x1b]1;${i}\x07` : '') + (w !== null ? `\x1b]2;${w}\x07` : '');
  }
}

function asBuffer(data: Uint8Array | string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Bytes still to come of a UTF-8 character begun at the end of `data` (from `from`). */
function utf8Missing(data: Buffer, from: number): number {
  for (let back = 1; back <= 3 && data.length - back >= from; back++) {
    const b = data[data.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return Math.max(0, need - back);
  }
  return 0;
}

/** The title a snapshot sets (the mirror writes it as `OSC 2 ; title BEL`, modes.ts), or null. */
export function snapshotTitle(snapshot: Uint8Array | string): string | null {
  if (typeof snapshot === 'string') {
    // Searched as it is: a replay of megabytes is not encoded again for this.
    const at = snapshot.lastIndexOf('\x1b]2;');
    const end = at < 0 ? -1 : snapshot.indexOf('\x07', at);
    return end < 0 ? null : snapshot.slice(at + 4, end);
  }
  const data = asBuffer(snapshot);
  const at = data.lastIndexOf('\x1b]2;');
  if (at < 0) return null;
  const end = data.indexOf(0x07, at);
  return end < 0 ? null : data.toString('utf8', at + 4, end);
}

/**
 * One attach's hint, in the stream of one terminal: shown right after the first replay,
 * taken back after HINT_MS at the first boundary of the agent's stream, or at once when
 * the stream is replaced (a resync) or the terminal is let go.
 */
export class TitleHint {
  private state: 'waiting' | 'showing' | 'due' | 'over' = 'waiting';
  private timer: NodeJS.Timeout | null = null;
  private readonly stream = new StreamBoundary();
  private readonly text: string;

  private readonly expired: () => void;
  private readonly due: () => void;
  private readonly ms: number;

  constructor(
    text: string,
    private readonly write: (bytes: string) => void,
    opts: {
      /** The hint is over, taken back after its time (not ended early by end()). */
      expired?: () => void;
      /**
       * Its time is up. By default it is taken back at once when the stream is at a
       * boundary (else after the next output that ends at one); an owner that must first
       * stop someone else writing to the terminal says so, then calls tryRestore().
       */
      due?: () => void;
      ms?: number;
    } = {},
  ) {
    this.text = safeTitle(text);
    this.expired = opts.expired ?? (() => {});
    this.due = opts.due ?? (() => this.tryRestore());
    this.ms = opts.ms ?? HINT_MS;
  }

  /** Shown, and not yet taken back. */
  get showing(): boolean {
    return this.state === 'showing' || this.state === 'due';
  }

  /**
   * Call right after the first snapshot is written: the stream is at a boundary there
   * (the snapshot ends every sequence it begins), and holds the agent's title.
   */
  start(snapshot: Uint8Array | string): void {
    if (this.state !== 'waiting') return;
    this.stream.windowTitle = snapshotTitle(snapshot);
    this.write(`${PUSH_TITLE}\x1b]2;${this.text}\x07`);
    this.state = 'showing';
    this.timer = setTimeout(() => {
      this.timer = null;
      this.state = 'due';
      this.due();
    }, this.ms);
    this.timer.unref();
  }

  /** Call after writing agent output behind the hint. */
  output(data: Uint8Array | string): void {
    this.track(data);
    this.tryRestore();
  }

  /** Output someone else wrote to the terminal (the native relay): followed, never written behind. */
  track(data: Uint8Array | string): void {
    if (this.showing) this.stream.feed(data);
  }

  /** Takes the hint back if its time is up and the stream is at a boundary. */
  tryRestore(): void {
    if (this.state === 'due' && this.stream.atBoundary) this.finish(true);
  }

  /** Takes the hint back now (a new snapshot follows, or the terminal is let go): the title stack is as before. */
  end(): void {
    if (this.showing) this.finish(false);
    this.state = 'over';
  }

  private finish(byTime: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.state = 'over';
    this.write(POP_TITLE + this.stream.titlesAgain());
    if (byTime) this.expired();
  }
}
