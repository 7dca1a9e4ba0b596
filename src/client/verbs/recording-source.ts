import type { RecordingSource } from '../../backends/backend';
import { UserError } from '../../errors';
import { findSession } from '../../sessions/find';
import { listRecordingParts } from '../../store/recording-files';
import type { Context } from '../context';

// The recording of one session, for `logs` and `record`: found, or an error that says why
// there is none.

export async function recordingSource(ctx: Context, rawId: string): Promise<{ id: string; source: RecordingSource }> {
  const rec = await findSession(ctx.backends, rawId);
  const backend = ctx.backends.for(rec);
  if (!backend.recording) {
    throw new UserError(
      `Agent session ${rec.uuid} runs on the ${backend.name} backend, which records nothing: recordings (\`agent logs\`, \`agent record\`) are a feature of the pty backend. ` +
        `\`agent capture ${rec.uuid} --scrollback\` shows the history tmux keeps.`,
    );
  }
  const source = backend.recording(rec);
  if (source.settings === null) {
    throw new UserError(`Agent session ${rec.uuid} has no recording: it was started by a version of symposium-mcp that did not record.`);
  }
  if (!source.settings.enabled) {
    throw new UserError(`Agent session ${rec.uuid} is not recorded: it was spawned with --no-record (or with SYMPOSIUM_RECORD=0 in the environment).`);
  }
  if (listRecordingParts(source.dir).length === 0 && !source.live()) {
    throw new UserError(`Agent session ${rec.uuid} has no recording left: its supervisor could not write one (see ${source.dir}/supervisor.log).`);
  }
  return { id: rec.uuid, source };
}
