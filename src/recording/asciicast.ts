// asciicast v2, the format every player and converter reads (asciinema 2.2 included):
// newline-delimited JSON, a header object on the first line, then one event per line,
// `[seconds, code, data]`, exactly three elements. Shared by the supervisor, which writes
// recordings, and the readers (`agent logs`, `agent record`). Every line read is decoded
// here into a checked type, once.
//
// What asciinema 2.2 cannot take, and this codec therefore never writes: a fourth element
// in an event, a blank line, a lone surrogate (strings come from a TextDecoder, which
// never yields one), a second header. Its `cat` and `play` show `o` events and skip the
// others.

/** Ours in each part's header (players ignore keys they do not know). */
export interface PartInfo {
  /** The session id. */
  id: string;
  /** 1, 2, …: parts are numbered in order; the oldest are removed. */
  part: number;
  /** When the part began (ms since the epoch): its event times count from here. */
  startMs: number;
  /** Whether `i` events (what was typed) are recorded. */
  input: boolean;
}

export interface CastHeader {
  version: 2;
  width: number;
  height: number;
  /** Seconds since the epoch. */
  timestamp?: number;
  /** Seconds (an export says how long it is). */
  duration?: number;
  command?: string;
  title?: string;
  env?: Record<string, string>;
  x_symposium?: PartInfo;
}

/** o: output; i: input; r: resize ("COLSxROWS"); m: a marker (a label). */
export type EventCode = 'o' | 'i' | 'r' | 'm';

export interface CastEvent {
  /** Seconds since the start of the part (or of the export). */
  time: number;
  code: EventCode;
  data: string;
}

/** A recording as it is read, part after part: each part's header, then its events. */
export type CastItem = { kind: 'header'; part: number; header: CastHeader } | { kind: 'event'; part: number; event: CastEvent };

// ---- markers the supervisor writes, and the two that readers act on ------------------

/** The first two events of a part after the first: this marker, then the screen as an `o` event. */
export const SNAPSHOT_MARKER = 'screen at the start of this part';

export function exitMarker(code: number | null, signal: string | null): string {
  return signal ? `exit signal ${signal}` : `exit code ${code ?? 0}`;
}

/** The supervisor's last event: the agent has ended. */
export function isExitMarker(e: CastEvent): boolean {
  return e.code === 'm' && /^exit (code -?\d+|signal \w+)$/.test(e.data);
}

// ---- writing ------------------------------------------------------------------------

/** One header line (no newline). */
export function encodeHeader(h: CastHeader): string {
  return JSON.stringify(h);
}

/** Times as asciinema writes them: seconds, to the microsecond. */
export function castTime(seconds: number): number {
  return Math.round(Math.max(0, seconds) * 1e6) / 1e6;
}

/** One event line (no newline). */
export function encodeEvent(seconds: number, code: EventCode, data: string): string {
  const [head, json] = eventPieces(seconds, code, data);
  return `${head}${json}]`;
}

/**
 * The same line with its newline, in three pieces, for a writer that copies each where it
 * goes rather than join them first: the head and the tail are ASCII, and so is the JSON of
 * ASCII data.
 */
export function eventPieces(seconds: number, code: EventCode, data: string): [string, string, string] {
  return [`[${castTime(seconds)},"${code}",`, JSON.stringify(data), ']\n'];
}

export function resizeData(cols: number, rows: number): string {
  return `${cols}x${rows}`;
}

// ---- reading ------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDim = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 10_000;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function parse(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

function decodePartInfo(v: unknown): PartInfo | undefined {
  if (!isObj(v)) return undefined;
  if (typeof v.id !== 'string' || !Number.isInteger(v.part) || !isNum(v.startMs) || typeof v.input !== 'boolean') return undefined;
  return { id: v.id, part: v.part as number, startMs: v.startMs, input: v.input };
}

/** A header line, checked; null when it is not an asciicast v2 header. */
export function decodeHeader(line: string): CastHeader | null {
  const v = parse(line);
  if (!isObj(v) || v.version !== 2 || !isDim(v.width) || !isDim(v.height)) return null;
  const h: CastHeader = { version: 2, width: v.width, height: v.height };
  if (isNum(v.timestamp)) h.timestamp = v.timestamp;
  if (isNum(v.duration)) h.duration = v.duration;
  if (typeof v.command === 'string') h.command = v.command;
  if (typeof v.title === 'string') h.title = v.title;
  if (isObj(v.env)) {
    const env: Record<string, string> = {};
    for (const [k, val] of Object.entries(v.env)) if (typeof val === 'string') env[k] = val;
    h.env = env;
  }
  const part = decodePartInfo(v.x_symposium);
  if (part) h.x_symposium = part;
  return h;
}

const CODES: ReadonlySet<string> = new Set<EventCode>(['o', 'i', 'r', 'm']);

/** An event line, checked; null when it is not a three-element event of a known code. */
export function decodeEvent(line: string): CastEvent | null {
  const v = parse(line);
  if (!Array.isArray(v) || v.length !== 3) return null;
  const [time, code, data] = v as [unknown, unknown, unknown];
  if (!isNum(time) || time < 0 || typeof code !== 'string' || !CODES.has(code) || typeof data !== 'string') return null;
  return { time, code: code as EventCode, data };
}

/** "COLSxROWS" of an `r` event; null when unreadable. */
export function decodeResize(data: string): { cols: number; rows: number } | null {
  const m = /^(\d+)x(\d+)$/.exec(data);
  if (!m) return null;
  const cols = Number(m[1]);
  const rows = Number(m[2]);
  return isDim(cols) && isDim(rows) ? { cols, rows } : null;
}

/** When a part began, in ms since the epoch: ours to the ms, else the header's whole seconds. */
export function partStartMs(h: CastHeader): number {
  return h.x_symposium?.startMs ?? (h.timestamp ?? 0) * 1000;
}
