import { backendFor } from '../backends';
import { findSession } from './session';

export interface CaptureFlags {
  lines?: number;
  scrollback?: boolean;
  ansi?: boolean;
  json?: boolean;
}

export async function captureCommand(rawId: string, flags: CaptureFlags): Promise<void> {
  const rec = await findSession(rawId);
  const res = await backendFor(rec).capture(rec, {
    lines: flags.lines ?? null,
    scrollback: flags.scrollback === true,
    ansi: flags.ansi === true,
  });
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ id: rec.uuid, status: rec.status, cols: res.cols, rows: res.rows, cursor: res.cursor, final: res.final, text: res.text }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(res.text.endsWith('\n') || res.text === '' ? res.text : `${res.text}\n`);
}
