import { Recording } from './limits';

// What a session records, chosen at spawn and kept in its supervisor.json.

export interface RecordingSettings {
  /** The agent's output is recorded (false: `spawn --no-record`, or SYMPOSIUM_RECORD=0). */
  enabled: boolean;
  /** What was typed is recorded too (`spawn --record-input`): off by default, it holds secrets. */
  input: boolean;
  /** A part begins after about this many bytes of events… */
  partBytes: number;
  /** …and this many parts are kept, the oldest removed. */
  parts: number;
}

/** Nothing recorded (a config written before recordings existed says nothing). */
export const RECORDING_OFF: RecordingSettings = { enabled: false, input: false, partBytes: Recording.DefaultCapBytes / Recording.Parts, parts: Recording.Parts };

/** The settings for a cap in bytes (checked by the caller). */
export function recordingSettings(enabled: boolean, input: boolean, capBytes: number = Recording.DefaultCapBytes): RecordingSettings {
  return { enabled, input, partBytes: Math.floor(capBytes / Recording.Parts), parts: Recording.Parts };
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** The settings as read from a file, checked; null when they are not well formed. */
export function decodeRecordingSettings(v: unknown): RecordingSettings | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.enabled !== 'boolean' || typeof o.input !== 'boolean' || !isPositiveInt(o.partBytes) || !isPositiveInt(o.parts)) return null;
  return { enabled: o.enabled, input: o.input, partBytes: o.partBytes, parts: o.parts };
}

/** `64M`, `1G`, `512K`, `1048576`: a size in bytes (K, M, G are powers of 1024); null when unreadable. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B?|B)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? '').toUpperCase()[0];
  const mult = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  const n = Math.round(Number(m[1]) * mult);
  return Number.isSafeInteger(n) ? n : null;
}
