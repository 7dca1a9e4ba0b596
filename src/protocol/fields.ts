// The checks that turn one field of a decoded msgpack map into a typed value, naming the
// field when it is wrong. Every decoder of the protocol (messages.ts, ops.ts) uses these,
// so a message is checked once, where it is decoded.

export class MessageError extends Error {}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function bad(t: string, field: string, want: string): never {
  throw new MessageError(`${t}.${field} must be ${want}`);
}

export function uint(o: Obj, t: string, f: string, max = 0xffffffff): number {
  const v = o[f];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) bad(t, f, `an integer from 0 to ${max}`);
  return v;
}

export function optUint(o: Obj, t: string, f: string, max = 0xffffffff): number | null {
  return o[f] === undefined || o[f] === null ? null : uint(o, t, f, max);
}

/** A time in ms since the epoch: an integer, or a float64 some encoders send for it. */
export function optTime(o: Obj, t: string, f: string): number | null {
  const v = o[f];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(t, f, 'a time in ms or nil');
  return Math.floor(v);
}

export function optInt(o: Obj, t: string, f: string): number | null {
  const v = o[f];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(t, f, 'an integer or nil');
  return v;
}

export function str(o: Obj, t: string, f: string, maxLen = 1 << 20): string {
  const v = o[f];
  if (typeof v !== 'string' || v.length > maxLen) bad(t, f, 'a string');
  return v;
}

export function optStr(o: Obj, t: string, f: string, maxLen = 1 << 20): string | null {
  return o[f] === undefined || o[f] === null ? null : str(o, t, f, maxLen);
}

export function bool(o: Obj, t: string, f: string, dflt: boolean): boolean {
  const v = o[f];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') bad(t, f, 'a boolean');
  return v;
}

/** One of `values`; `dflt` when absent (a newer peer's value we do not know is an error). */
export function oneOf<V extends string>(o: Obj, t: string, f: string, values: readonly V[], dflt?: V): V {
  const v = o[f];
  if ((v === undefined || v === null) && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) bad(t, f, values.map((x) => JSON.stringify(x)).join(' or '));
  return v as V;
}

/** A string field of a reply that a newer peer may extend: unknown values read as `other`. */
export function lenient<V extends string>(o: Obj, f: string, values: readonly V[], other: V): V {
  const v = o[f];
  return typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as V) : other;
}

export function bin(o: Obj, t: string, f: string): Uint8Array {
  const v = o[f];
  if (v instanceof Uint8Array) return v;
  // A string is accepted as its UTF-8 bytes: handy for hand-written clients.
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  bad(t, f, 'binary (or a string)');
}

/** An array of at most `max` binaries (or strings). */
export function binArray(o: Obj, t: string, f: string, max: number): Uint8Array[] {
  const v = o[f];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > max) bad(t, f, `an array of at most ${max} binaries`);
  return v.map((x) => {
    if (x instanceof Uint8Array) return x;
    if (typeof x === 'string') return Buffer.from(x, 'utf8');
    return bad(t, f, 'an array of binaries (or strings)');
  });
}

export function strArray(o: Obj, t: string, f: string): string[] {
  const v = o[f];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) bad(t, f, 'an array of strings');
  return v;
}

export function obj(o: Obj, t: string, f: string): Obj {
  const v = o[f];
  if (!isObj(v)) bad(t, f, 'a map');
  return v;
}

export function arrayOf<T>(o: Obj, t: string, f: string, item: (v: unknown, where: string) => T): T[] {
  const v = o[f];
  if (!Array.isArray(v)) bad(t, f, 'an array');
  return v.map((x, i) => item(x, `${t}.${f}[${i}]`));
}

/** Terminal sizes: 1 to 1000 (tmux allows up to 10000; nobody needs more than 1000). */
export const MAX_DIM = 1000;

export function dim(o: Obj, t: string, f: string): number {
  const v = uint(o, t, f, MAX_DIM);
  if (v < 1) bad(t, f, `from 1 to ${MAX_DIM}`);
  return v;
}

export function optDim(o: Obj, t: string, f: string): number | null {
  return o[f] === undefined || o[f] === null ? null : dim(o, t, f);
}

/** Node timers fire at once (and warn) past 2^31-1 ms: a longer wait would spin the supervisor. */
export const MAX_TIMER_MS = 0x7fffffff;
