import * as fs from 'node:fs';

// What /proc says of a process the test started (directly or not): its environment as it
// was exec'd, and what its descriptors are open on.

/** /proc/PID/environ as a map (the environment the process was started with). */
export function environ(pid: number): Map<string, string> {
  const text = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
  return new Map(
    text
      .split('\0')
      .filter((kv) => kv.includes('='))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** Descriptor number -> what it is open on (a path, `pipe:[…]`, `socket:[…]`). */
export function fdTargets(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.set(Number(fd), fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}
