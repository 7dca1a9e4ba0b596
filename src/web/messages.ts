import type { AgentState } from './agent-state';
import { WebLimits } from './limits';

// The messages of the page's WebSocket (docs/web-protocol.md), one JSON object per text
// frame. What a page sends is decoded here, once, into a checked type: nothing else reads
// a browser's JSON.

// ---- page → server ------------------------------------------------------------------

export type BrowserMessage =
  /** Show agent `id`; `v` numbers the view, echoed on what belongs to it. */
  | { t: 'open'; v: number; id: string }
  /** Back to the list: the view is closed. */
  | { t: 'close' }
  /** Characters of `o` and `screen` data xterm.js has parsed, counted since the connection opened. */
  | { t: 'ack'; n: number }
  /** Take the keyboard (--write only): the view becomes writable, with this terminal size. */
  | { t: 'type'; cols: number; rows: number }
  /** Give the keyboard back: the view becomes read-only again. */
  | { t: 'watch' }
  /** Keys typed in the terminal, as xterm.js encodes them (while typing). */
  | { t: 'input'; d: string }
  /** The browser's terminal size changed (while typing). */
  | { t: 'resize'; cols: number; rows: number }
  /** Type into an agent now: the text, then named keys, then Enter (--write only). */
  | { t: 'send'; ref: number; id: string; text: string; keys: string[]; enter: boolean }
  /** Queue a task (--write only). */
  | { t: 'queue'; ref: number; id: string; text: string };

/** Every type a page may send (the compiler checks the list is complete: docs/web-protocol.md has a section for each). */
const BROWSER_TYPES: Record<BrowserMessage['t'], true> = { open: true, close: true, ack: true, type: true, watch: true, input: true, resize: true, send: true, queue: true };
export const BROWSER_MESSAGE_TYPES = Object.keys(BROWSER_TYPES) as ReadonlyArray<BrowserMessage['t']>;

export class BadMessage extends Error {}

type Obj = Record<string, unknown>;

function field<T>(o: Obj, key: string, check: (v: unknown) => v is T, what: string): T {
  const v = o[key];
  if (!check(v)) throw new BadMessage(`${String(o.t)}: ${key} must be ${what}`);
  return v;
}

const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isDim = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1000;
const isId = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= WebLimits.MaxTextChars;
const isKeys = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 64 && v.every((k) => typeof k === 'string' && k.length <= 32);

/** One frame from a page, checked; throws BadMessage. Unknown types are refused too. */
export function decodeBrowserMessage(raw: string): BrowserMessage {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new BadMessage('not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadMessage('not an object');
  const o = v as Obj;
  switch (o.t) {
    case 'open':
      return { t: 'open', v: field(o, 'v', isCount, 'a count'), id: field(o, 'id', isId, 'an agent id') };
    case 'close':
      return { t: 'close' };
    case 'ack':
      return { t: 'ack', n: field(o, 'n', isCount, 'a count') };
    case 'type':
      return { t: 'type', cols: field(o, 'cols', isDim, '1 to 1000'), rows: field(o, 'rows', isDim, '1 to 1000') };
    case 'watch':
      return { t: 'watch' };
    case 'input':
      return { t: 'input', d: field(o, 'd', isText, 'text') };
    case 'resize':
      return { t: 'resize', cols: field(o, 'cols', isDim, '1 to 1000'), rows: field(o, 'rows', isDim, '1 to 1000') };
    case 'send':
      return {
        t: 'send',
        ref: field(o, 'ref', isCount, 'a count'),
        id: field(o, 'id', isId, 'an agent id'),
        text: field(o, 'text', isText, 'text'),
        keys: field(o, 'keys', isKeys, 'a list of key names'),
        enter: field(o, 'enter', isBool, 'true or false'),
      };
    case 'queue':
      return { t: 'queue', ref: field(o, 'ref', isCount, 'a count'), id: field(o, 'id', isId, 'an agent id'), text: field(o, 'text', isText, 'text') };
    default:
      throw new BadMessage(`unknown message type ${JSON.stringify(o.t)}`);
  }
}

// ---- server → page ------------------------------------------------------------------

/** One agent in the list. */
export interface AgentRow {
  id: string;
  /** tmux's name for it (tmux sessions are attached with tmux itself). */
  sessionName: string;
  backend: 'pty' | 'tmux';
  /** Starting, Running, Crashed or Stopped. */
  status: string;
  state: AgentState;
  /** Why it ended. */
  reason: string | null;
  exitCode: number | null;
  exitSignal: string | null;
  command: string;
  workdir: string;
  lastOutputAt: string | null;
  queued: number | null;
  cols: number | null;
  rows: number | null;
  viewers: number | null;
  /** The last line of text on its screen. */
  preview: string | null;
}

export interface TaskRow {
  index: number;
  text: string;
  queuedAt: string;
}

/** How an opened agent is shown: a live stream, captures every second (tmux), or its last screen. */
export type ViewMode = 'live' | 'captures' | 'final';

export type PageMessage =
  | { t: 'hello'; version: string; write: boolean }
  | { t: 'agents'; now: string; agents: AgentRow[]; warnings: string[] }
  /** The view of agent `id` began (or changed mode); `note` says what the page cannot do there. */
  | { t: 'view'; v: number; id: string; mode: ViewMode; typing: boolean; note: string | null }
  /** A whole screen: reset the terminal to cols x rows, then write `d`. Counted by acks. */
  | { t: 'screen'; v: number; d: string; cols: number; rows: number }
  /** Output after the last screen. Counted by acks. */
  | { t: 'o'; d: string }
  | { t: 'size'; v: number; cols: number; rows: number }
  /** The view's stream is over: the agent exited (code, signal) or the stream was lost (message). */
  | { t: 'ended'; v: number; code: number | null; signal: string | null; message: string | null }
  | { t: 'tasks'; v: number; id: string; tasks: TaskRow[] }
  /** The answer to a send or queue. */
  | { t: 'done'; ref: number; ok: boolean; message: string }
  | { t: 'error'; message: string };

const PAGE_TYPES: Record<PageMessage['t'], true> = { hello: true, agents: true, view: true, screen: true, o: true, size: true, ended: true, tasks: true, done: true, error: true };
/** Every type the server sends (complete, as above). */
export const PAGE_MESSAGE_TYPES = Object.keys(PAGE_TYPES) as ReadonlyArray<PageMessage['t']>;
