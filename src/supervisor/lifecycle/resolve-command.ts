import * as fs from 'node:fs';
import * as path from 'node:path';

// node-pty forks before it execs, so a missing command shows up only as an exit code 1
// and a message inside the pty. We look the command up first, like a shell would, to
// fail `spawn` with a clear reason instead.

export function resolveCommand(cmd: string, cwd: string, envPath: string | undefined): string {
  const candidates = cmd.includes('/')
    ? [path.resolve(cwd, cmd)]
    : (envPath ?? '/usr/local/bin:/usr/bin:/bin').split(':').map((d) => path.join(path.resolve(cwd, d || '.'), cmd));
  let denied: string | null = null;
  for (const c of candidates) {
    let st: fs.Stats;
    try {
      st = fs.statSync(c);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (cmd.includes('/')) throw new Error(`${cmd}: is a directory`);
      continue;
    }
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      denied = c;
    }
  }
  if (denied) throw new Error(`${cmd}: permission denied (${denied} is not executable)`);
  throw new Error(`${cmd}: command not found`);
}
