import * as fs from 'node:fs';
import * as path from 'node:path';
import { knownAgent } from '../../agents/known-agents';
import { DIST_DIR } from '../../dist-dir';
import type { SupervisorConfig } from '../../store/session-dir';
import { log } from './log';

// The command the agent is started with: the recorded one, and for `spawn --hooks` with a
// known agent, that agent's own hooks wired to this supervisor for this run only (its
// argv gains them; nothing in the user's configuration changes). The hook program is copied
// into the session's directory first, so that it is this version's for the agent's life.

export interface Launch {
  command: string[];
  env: Record<string, string>;
}

/** The hook as one file (scripts/bundle.js), else its compiled module (a build without the bundler). */
function builtHook(): string | null {
  for (const f of [path.join(DIST_DIR, 'hook.bundle.js'), path.join(DIST_DIR, 'hook', 'main.js')]) {
    if (fs.existsSync(f)) return f;
  }
  return null;
}

export function agentLaunch(config: SupervisorConfig): Launch {
  const plain = { command: config.command, env: {} };
  if (!config.hooks?.agent) return plain;
  const known = knownAgent(config.command);
  if (!known?.wireHooks) {
    log(`hooks asked for, but ${known ? `${known.name} takes none for one run` : 'this program is not a known agent'}: generic rules`);
    return plain;
  }
  const built = builtHook();
  if (!built) {
    log('hooks not wired: the hook program is not built');
    return plain;
  }
  let hook = built;
  if (built.endsWith('.bundle.js')) {
    hook = path.join(config.sessionDir, 'hook.js');
    try {
      fs.rmSync(hook, { force: true });
      fs.copyFileSync(built, hook, fs.constants.COPYFILE_EXCL);
    } catch (err) {
      log(`hooks use the install's copy (${(err as Error).message})`);
      hook = built;
    }
  }
  const wired = known.wireHooks(config.command, [process.execPath, hook]);
  log(`${known.name}'s hooks wired to this supervisor`);
  return { command: wired.command, env: wired.env };
}
