import type { Terminal } from '@xterm/headless';
import type { AgentWord } from '../../agents/known-agents';

// What an agent says about itself through its output, read while xterm parses it:
//
//   BEL                      a bell
//   OSC 133 ; A|B            a shell's prompt mark: it waits for a command
//   OSC 9 ; text             a notification (iTerm2); OSC 9 ; N ; … (a number first) is
//                            ConEmu's family (progress bars and the like), not one
//   OSC 777 ; notify ; t ; b a notification (urxvt, Ghostty): title and body
//   OSC 99 ; meta ; payload  a notification (kitty), possibly in parts (d=0 until the last),
//                            possibly base64 (e=1)
//   OSC 7501 ; state=S:…     the agent's own state (Codex always, Claude once the terminal
//                            answered the probe, see state-probe.ts): idle, working,
//                            blocked, done, clear; msg= is base64 text
//   OSC 0/2 ; title          the window title (known agents say their state in it)
//
// Every handler returns false: xterm handles the sequence as it would have (a title is
// still the title). Parsing is in pure functions, tested without a terminal.

export type AgentSignal =
  | { kind: 'bell' }
  | { kind: 'prompt' }
  | { kind: 'notification'; text: string }
  | { kind: 'agent-state'; word: AgentWord; text: string | null; app: string | null }
  | { kind: 'title'; title: string };

/** Text kept of a notification or a state message (a notification is a line, not a document). */
export const SIGNAL_TEXT_MAX = 1000;

function clip(s: string): string {
  const t = s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return t.length > SIGNAL_TEXT_MAX ? `${t.slice(0, SIGNAL_TEXT_MAX - 1)}…` : t;
}

function base64Text(s: string): string | null {
  if (!/^[A-Za-z0-9+/=_-]*$/.test(s)) return null;
  return Buffer.from(s, 'base64').toString('utf8');
}

/** OSC 9's data as a notification; null for ConEmu's numbered commands (9;4;… progress). */
export function osc9(data: string): string | null {
  if (/^\d+(;|$)/.test(data)) return null;
  const t = clip(data);
  return t === '' ? null : t;
}

/** OSC 777's data (`notify;title;body`) as a notification; null for its other commands. */
export function osc777(data: string): string | null {
  const [cmd, title = '', ...body] = data.split(';');
  if (cmd !== 'notify') return null;
  const text = clip([title, body.join(';')].filter((s) => s.trim() !== '').join(': '));
  return text === '' ? null : text;
}

/** OSC 7501's data as the agent's state; null for what is not one (the probe, `clear`, unknown states). */
export function osc7501(data: string): { word: AgentWord; text: string | null; app: string | null } | null {
  const fields = new Map<string, string>();
  for (const part of data.split(':')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const state = fields.get('state');
  const word: AgentWord | null =
    state === 'idle' || state === 'done' ? 'idle' : state === 'working' ? 'working' : state === 'blocked' ? 'blocked' : null;
  if (!word) return null;
  const msg = fields.get('msg');
  const decoded = msg === undefined ? null : base64Text(msg);
  const text = decoded === null ? null : clip(decoded) || null;
  return { word, text, app: fields.get('app') ?? null };
}

/**
 * kitty's OSC 99 notifications, which may come in parts: `i=ID:d=0;title` then
 * `i=ID:p=body;text` (d=1, the default, ends one). The text of each complete one.
 */
export class KittyNotifications {
  private parts = new Map<string, string[]>();

  /** The notification this part completes, if it does. */
  take(data: string): string | null {
    const semi = data.indexOf(';');
    if (semi < 0) return null;
    const meta = new Map<string, string>();
    for (const kv of data.slice(0, semi).split(':')) {
      const eq = kv.indexOf('=');
      if (eq > 0) meta.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    const p = meta.get('p') ?? 'title';
    if (p !== 'title' && p !== 'body') return null; // icons, buttons, queries: no text
    let payload = data.slice(semi + 1);
    if (meta.get('e') === '1') payload = base64Text(payload) ?? '';
    const id = meta.get('i') ?? '';
    const parts = this.parts.get(id) ?? [];
    if (payload.trim() !== '') parts.push(payload);
    if (meta.get('d') === '0') {
      // At most a few ids pending: a program that never finishes one must not grow this.
      if (!this.parts.has(id) && this.parts.size >= 16) this.parts.clear();
      this.parts.set(id, parts.slice(-8));
      return null;
    }
    this.parts.delete(id);
    const text = clip(parts.join(': '));
    return text === '' ? null : text;
  }
}

/** Reports every signal in the output as xterm parses it. */
export function watchAgentSignals(term: Terminal, cb: (s: AgentSignal) => void): void {
  term.onBell(() => cb({ kind: 'bell' }));
  term.onTitleChange((title) => cb({ kind: 'title', title }));
  const parser = term.parser;
  parser.registerOscHandler(133, (data) => {
    if (data.startsWith('A') || data.startsWith('B')) cb({ kind: 'prompt' });
    return false;
  });
  const notify = (text: string | null) => {
    if (text !== null) cb({ kind: 'notification', text });
    return false;
  };
  parser.registerOscHandler(9, (data) => notify(osc9(data)));
  parser.registerOscHandler(777, (data) => notify(osc777(data)));
  const kitty = new KittyNotifications();
  parser.registerOscHandler(99, (data) => notify(kitty.take(data)));
  parser.registerOscHandler(7501, (data) => {
    const s = osc7501(data);
    if (s) cb({ kind: 'agent-state', ...s });
    return true; // no terminal of ours knows it: nothing more to do with it
  });
}
