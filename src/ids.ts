import { UserError } from './errors';

// Ids reach file names, socket paths and tmux targets: only a safe alphabet is allowed.
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function checkId(id: string): string {
  if (!isValidId(id)) {
    const shown = JSON.stringify(id);
    throw new UserError(
      `Invalid agent id ${shown}: use 1 to 64 letters, digits, '-' or '_'`,
    );
  }
  return id;
}

/** The session's display name, the same for every backend (compat). */
export function sessionName(id: string): string {
  return `symposium-agent-${id}`;
}

export const SESSION_PREFIX = 'symposium-agent-';
