import { now } from './time';
import type { SessionRecord } from './types';

/** Stopped for a clean exit (code 0, no signal), Crashed otherwise; keeps the first end time. */
export function markEnded(rec: SessionRecord, code: number | null, signal: string | null, reason: string | null): void {
  const clean = code === 0 && !signal;
  const status = clean ? 'Stopped' : 'Crashed';
  if (rec.status === status && rec.exit_code === code && rec.exit_signal === signal) return;
  rec.status = status;
  rec.exit_code = code;
  rec.exit_signal = signal;
  rec.status_reason = reason ?? (clean ? 'exited' : signal ? `killed by ${signal}` : `exited with code ${code}`);
  rec.ended_at = rec.ended_at ?? now();
}
