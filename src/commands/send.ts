import { backendFor } from '../backends';
import { encodeKey } from '../keys';
import { findSession, requireRunning } from './session';

export interface SendFlags {
  enter?: boolean;
  key?: string[];
}

export async function sendCommand(rawId: string, text: string[], flags: SendFlags): Promise<void> {
  const keys = (flags.key ?? []).map(encodeKey); // bad key names fail before anything is sent
  const rec = await findSession(rawId);
  requireRunning(rec, 'send to it');
  // Keys and Enter are separate writes after the text (an agent must see a paste end
  // before the key that submits it), but one request: concurrent sends never interleave.
  const after = [...keys, ...(flags.enter ? ['\r'] : [])].map((k) => Buffer.from(k, 'utf8'));
  await backendFor(rec).send(rec, { data: Buffer.from(text.join(' '), 'utf8'), paste: true, keys: after });
}
