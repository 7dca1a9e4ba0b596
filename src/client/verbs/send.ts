import { UserError } from '../../errors';
import { encodeKeyName } from '../../keys/encode';
import { findSession, requireRunning } from '../../sessions/find';
import type { Context } from '../context';
import type { SendInput, Task } from '../types';
import { task } from './queue';

/**
 * Types into the agent now: the text (pasted whole), then each key, then Enter, as separate
 * writes. Text with Enter becomes a task (pty): its number and receipts, as `queue` gives.
 */
export async function send(ctx: Context, rawId: string, input: string | SendInput): Promise<Task | null> {
  const what = typeof input === 'string' ? { text: input } : input;
  const text = what.text ?? '';
  const names = [...(what.keys ?? []), ...(what.enter ? ['Enter'] : [])];
  // Legacy bytes, for a supervisor older than key names; bad names fail before anything is sent.
  const keys = names.map((k) => Buffer.from(encodeKeyName(k), 'utf8'));
  const rec = await findSession(ctx.backends, rawId);
  if (text === '' && keys.length === 0) throw new UserError('Nothing to send: give a text, --key KEY or --enter');
  requireRunning(rec, 'send to it');
  // Keys and Enter are separate writes after the text (an agent must see a paste end
  // before the key that submits it), but one request: concurrent sends never interleave.
  // Text submitted with Enter is a task: its turn gets receipts (pty), as a queued one's.
  const t = await ctx.backends.for(rec).send(rec, { data: Buffer.from(text, 'utf8'), paste: true, keys, keyNames: names, task: text !== '' && what.enter === true });
  return t ? task(t) : null;
}
