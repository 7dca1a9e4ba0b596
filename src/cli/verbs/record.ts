import { UserError, describeFsError, fsErrorAdvice } from '../../errors';
import { writeFileAtomic } from '../../sys/atomic-write';
import { type VerbEntry, options, print } from '../verb';

interface Flags {
  output?: string;
}

export const recordVerb: VerbEntry = {
  name: 'record',
  summary: "export the agent's recording as one asciicast file (play it with asciinema)",
  args: [{ name: '<id>', description: 'session id' }],
  options: [{ flags: '-o, --output <file>', description: 'write it to FILE (private, mode 600) instead of stdout' }],
  examples: ['symposium-mcp agent record my-agent-1 --output my-agent-1.cast && asciinema play my-agent-1.cast'],
  async run(client, [id], raw) {
    const f = options<Flags>(raw);
    const cast = await client.recording(id as string);
    if (f.output === undefined) {
      if (!process.stdout.write(cast)) await new Promise((r) => process.stdout.once('drain', r));
      return;
    }
    try {
      writeFileAtomic(f.output, cast, { durable: false });
    } catch (err) {
      throw new UserError(`Cannot write ${f.output}: ${describeFsError(err)}. ${fsErrorAdvice(err)}`, { cause: err });
    }
    print(`Recording of ${id as string} written to ${f.output}`);
  },
};
