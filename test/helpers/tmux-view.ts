import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, type Sandbox, waitFor } from './sandbox';
import { procStat } from '../../src/sys/proc';

// A pane of the sandbox's private tmux server used as a user's terminal: run a program in
// it at a given size, type into it, and read back what it shows (`capture-pane -p -e`),
// where its cursor is and which modes the program left on. Each view is its own detached
// session, so its size is exactly what the test asks for.

/** Pane state tmux 3.3a exposes as formats (there is no bracketed-paste or cursor-style format). */
export const PANE_FORMATS = [
  'pane_width',
  'pane_height',
  'cursor_x',
  'cursor_y',
  'cursor_flag',
  'alternate_on',
  'insert_flag',
  'origin_flag',
  'wrap_flag',
  'keypad_cursor_flag',
  'keypad_flag',
  'mouse_any_flag',
  'mouse_all_flag',
  'mouse_button_flag',
  'mouse_standard_flag',
  'mouse_sgr_flag',
  'mouse_utf8_flag',
  'scroll_region_upper',
  'scroll_region_lower',
  'pane_title',
] as const;
export type PaneState = Record<(typeof PANE_FORMATS)[number], string>;

const SEP = '\x1f';

function confFile(sb: Sandbox): string {
  const file = path.join(sb.dir, 'tmux.conf');
  if (!fs.existsSync(file)) {
    // remain-on-exit: what the attach client printed last stays readable after it ends.
    // exit-empty off: killing the last view must not race the next view's start with the
    // server's exit ("server exited unexpectedly"); the sandbox kills the server.
    fs.writeFileSync(file, ['set -g remain-on-exit on', 'set -g exit-empty off', 'set -g status off', 'set -g history-limit 50000', ''].join('\n'));
  }
  return file;
}

export class TmuxView {
  readonly target: string;

  /** Starts `argv` (exec'd directly, no shell) in a new pane of `cols`×`rows`. */
  constructor(
    readonly sb: Sandbox,
    readonly name: string,
    cols: number,
    rows: number,
    argv: string[],
  ) {
    this.target = `=${name}:`;
    const r = sb.tmux(['-f', confFile(sb), 'new-session', '-d', '-s', name, '-c', sb.work, '-x', String(cols), '-y', String(rows), '--', ...argv]);
    if (r.code !== 0) throw new Error(`tmux new-session ${name} failed: ${r.stderr}`);
  }

  /**
   * A pane showing `agent attach ID` (extra CLI flags after the id). A shell around it
   * prints `[attach exited N]` afterwards: tmux's own #{pane_dead_status} is unreliable here
   * (a pane's process sometimes stays an unreaped zombie when tmux runs under vitest).
   */
  static attach(sb: Sandbox, name: string, cols: number, rows: number, id: string, ...flags: string[]): TmuxView {
    const argv = [CLI, 'agent', 'attach', id, ...flags];
    // `trap : QUIT`: like an interactive shell, the wrapper survives a stray Ctrl-\\ (a
    // handler, not an ignore: attach itself starts with the default disposition).
    return new TmuxView(sb, name, cols, rows, ['bash', '-c', 'trap : QUIT; "$@"; echo "[attach exited $?]"', 'attach', ...argv]);
  }

  /** The exit code `attach` printed via its wrapper, once it ended. */
  attachExit(): number | null {
    const m = /\[attach exited (\d+)\]/.exec(this.text());
    return m ? Number(m[1]) : null;
  }

  private tmux(args: string[]): string {
    const r = this.sb.tmux(args);
    if (r.code !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** `capture-pane -p -e`, optionally with the whole history or of the alternate screen. */
  capture(opts: { scrollback?: boolean; alternate?: boolean; ansi?: boolean } = {}): string {
    const args = ['capture-pane', '-p', '-t', this.target];
    if (opts.ansi !== false) args.push('-e');
    if (opts.scrollback) args.push('-S', '-');
    if (opts.alternate) args.push('-a', '-q');
    return this.tmux(args);
  }

  /** The plain text of the visible screen. */
  text(): string {
    return this.capture({ ansi: false });
  }

  state(): PaneState {
    const out = this.tmux(['display', '-p', '-t', this.target, PANE_FORMATS.map((f) => `#{${f}}`).join(SEP)]).replace(/\n$/, '');
    const values = out.split(SEP);
    const state = {} as PaneState;
    PANE_FORMATS.forEach((f, i) => (state[f] = values[i] ?? ''));
    return state;
  }

  cursor(): { x: number; y: number } {
    const [x, y] = this.tmux(['display', '-p', '-t', this.target, '#{cursor_x},#{cursor_y}']).trim().split(',').map(Number);
    return { x: x!, y: y! };
  }

  /** tmux key names (`Enter`, `C-\\`, `Escape`…). */
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.target, ...keys]);
  }

  /** Literal text, typed as is. */
  type(text: string): void {
    this.tmux(['send-keys', '-t', this.target, '-l', text]);
  }

  /** Pastes `text` the way tmux does (bracketed if the program in the pane asked for it). */
  paste(text: string): void {
    this.tmux(['set-buffer', '-b', 'tv', '--', text]);
    this.tmux(['paste-buffer', '-p', '-d', '-b', 'tv', '-t', this.target]);
  }

  /** Signals the pane's foreground process group (what a terminal does on a resize). */
  signalForeground(sig: NodeJS.Signals): void {
    const pid = Number(this.tmux(['display', '-p', '-t', this.target, '#{pane_pid}']).trim());
    process.kill(-procStat(pid)!.tpgid, sig);
  }

  resize(cols: number, rows: number): void {
    this.tmux(['resize-window', '-t', this.target, '-x', String(cols), '-y', String(rows)]);
  }

  /** True once the program in the pane has ended (the pane stays, remain-on-exit). */
  dead(): boolean {
    return this.tmux(['display', '-p', '-t', this.target, '#{pane_dead}']).trim() === '1';
  }

  /** Waits until the visible text matches. */
  async waitText(re: RegExp, timeoutMs = 30_000): Promise<string> {
    return waitFor(() => {
      const t = this.text();
      return re.test(t) ? t : null;
    }, timeoutMs);
  }

  kill(): void {
    this.sb.tmux(['kill-session', '-t', `=${this.name}`]);
  }
}

/** Polls until `a()` and `b()` are equal (then returns both); else returns the last pair. */
export async function settleEqual<T>(a: () => T, b: () => T, timeoutMs = 30_000): Promise<[T, T]> {
  const deadline = Date.now() + timeoutMs;
  let pair: [T, T] = [a(), b()];
  while (JSON.stringify(pair[0]) !== JSON.stringify(pair[1]) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    pair = [a(), b()];
  }
  return pair;
}
