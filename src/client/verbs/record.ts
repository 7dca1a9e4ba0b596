import { UserError } from '../../errors';
import { CastJoiner } from '../../recording/export';
import { RecordingTail } from '../../store/recording-tail';
import type { Context } from '../context';
import { recordingSource } from './recording-source';

/** The session's recording as one asciicast v2 file (every part kept, joined in order). */
export async function recording(ctx: Context, rawId: string): Promise<string> {
  const { id, source } = await recordingSource(ctx, rawId);
  await source.written();
  const tail = new RecordingTail(source.dir);
  const joiner = new CastJoiner();
  for await (const item of tail.read()) joiner.add(item);
  await tail.close();
  const text = joiner.finish();
  if (text === null) {
    // Nothing written yet (just spawned), or removed meanwhile (a restart).
    throw new UserError(`Agent session ${id} has no recording yet`);
  }
  return text;
}
