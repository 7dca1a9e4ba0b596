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
  const backend = backendFor(rec);
  if (text.length > 0) await backend.send(rec, { data: Buffer.from(text.join(' '), 'utf8'), paste: true });
  // Keys and Enter are separate writes: an agent must see the pasted text end first.
  for (const k of keys) await backend.send(rec, { data: Buffer.from(k, 'utf8'), paste: false });
  if (flags.enter) await backend.send(rec, { data: Buffer.from('\r'), paste: false });
}
