import { type VerbEntry, print, warn } from '../verb';

export const pruneVerb: VerbEntry = {
  name: 'prune',
  summary: 'remove the records of all ended sessions',
  args: [],
  options: [],
  examples: ['symposium-mcp agent prune'],
  async run(client) {
    const { pruned, failed } = await client.prune();
    const n = pruned.length;
    print(n === 0 ? 'No ended agent sessions to prune' : `Pruned ${n} ended agent session${n === 1 ? '' : 's'}: ${pruned.join(', ')}`);
    if (failed.length > 0) {
      const list = failed.map((f) => `${f.id} (${f.error})`).join('; ');
      warn(`Warning: could not clean up ${list}; their records were kept. Try \`agent kill ID\` for each.`);
    }
  },
};
