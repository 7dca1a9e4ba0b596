import * as fs from 'node:fs';
import * as path from 'node:path';

// Surviving the user's logout. On systemd machines with KillUserProcesses=yes, everything
// in the login session's scope is killed at logout, supervisors and agents included (an
// agent manager built on tmux lost every agent on SSH logout that way); tmux's answer is to
// start its server in a scope of its own (`systemd-run --user --scope`). So, when a user
// systemd instance is reachable, each supervisor starts in a scope of its own, outside
// the login session; where there is none, or making the scope fails, it starts as before,
// silently. SYMPOSIUM_SYSTEMD_SCOPE=0 turns it off.

/** A program on PATH, or null. */
function onPath(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

/**
 * Whether a user systemd instance looks reachable, cheaply (no process started): its
 * private socket or the user bus in the runtime directory, or a session bus address.
 */
function userManagerReachable(env: NodeJS.ProcessEnv): boolean {
  if (env.DBUS_SESSION_BUS_ADDRESS) return true;
  const run = env.XDG_RUNTIME_DIR;
  return !!run && (fs.existsSync(path.join(run, 'systemd', 'private')) || fs.existsSync(path.join(run, 'bus')));
}

/**
 * The command that runs a program in a new user scope named after the session (the
 * program's argv follows it), or null when there is no user systemd to ask, or it is off.
 * `unit`: letters, digits, `-` and `_` only.
 */
export function scopePrefix(env: NodeJS.ProcessEnv, unit: string): string[] | null {
  if (env.SYMPOSIUM_SYSTEMD_SCOPE === '0' || !userManagerReachable(env)) return null;
  const run = onPath('systemd-run', env.PATH);
  if (!run) return null;
  // --scope: the program is exec'd by systemd-run itself, so its pid and descriptors are
  // the ones we passed; --collect: the unit goes once its processes have.
  return [run, '--user', '--scope', '--quiet', '--collect', `--unit=${unit}`, '--'];
}
