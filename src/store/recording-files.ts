import * as fs from 'node:fs';
import * as path from 'node:path';

// Where a session's recording lives: its parts, `recording.001.cast`, `recording.002.cast`…
// in the session's directory (private, like everything there). Numbers only grow; the
// oldest parts are removed as new ones begin, so the first part present may be any number.

const PART_NAME = /^recording\.(\d+)\.cast$/;

export function recordingPartPath(dir: string, part: number): string {
  return path.join(dir, `recording.${String(part).padStart(3, '0')}.cast`);
}

export interface PartFile {
  part: number;
  path: string;
}

/** The parts present, oldest first (none when the directory is gone). */
export function listRecordingParts(dir: string): PartFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const parts: PartFile[] = [];
  for (const name of names) {
    const m = PART_NAME.exec(name);
    if (m) parts.push({ part: Number(m[1]), path: path.join(dir, name) });
  }
  return parts.sort((a, b) => a.part - b.part);
}

/** Removes every part (a new run of the session records from scratch). */
export function removeRecordingParts(dir: string): void {
  for (const p of listRecordingParts(dir)) fs.rmSync(p.path, { force: true });
}
