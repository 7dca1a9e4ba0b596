import { UserError } from '../errors';

// What an MCP client may do, chosen when the server starts (--allow). Each tier includes
// the ones before it.
//   read:  list, status, capture, wait (and the screens as resources)
//   drive: + send, queue
//   spawn: + spawn, kill, restart
// The default is drive: an orchestrating agent hands tasks to agents a person started,
// but it does not start programs of its choosing outside its own permission checks unless
// the person who configured the server said so.

export const TIERS = ['read', 'drive', 'spawn'] as const;
export type Tier = (typeof TIERS)[number];
export const DEFAULT_TIER: Tier = 'drive';

export function parseTier(value: string | undefined): Tier {
  if (value === undefined) return DEFAULT_TIER;
  if ((TIERS as readonly string[]).includes(value)) return value as Tier;
  throw new UserError(`Unknown --allow ${JSON.stringify(value)}: use read, drive or spawn`);
}

export function allows(granted: Tier, needed: Tier): boolean {
  return TIERS.indexOf(granted) >= TIERS.indexOf(needed);
}
