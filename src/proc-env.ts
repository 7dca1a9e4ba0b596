import * as fs from 'node:fs';

/**
 * Pids of live processes (not this one) whose environment holds `NAME=value`: how the
 * tests and the benchmark find every process they started, directly or not.
 */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}\0`;
  return allPids().filter((pid) => {
    if (pid === process.pid) return false;
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(needle);
    } catch {
      return false; // gone, or not ours to read
    }
  });
}

/** Every pid in /proc right now (empty where /proc cannot be read). */
export function allPids(): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e)).map(Number);
}
