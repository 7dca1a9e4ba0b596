import { HOOK_WORDS, type HookWord } from '../../hook/payload';
import type { VerbEntry } from '../verb';

// What an agent's hook runs (spawn --hooks wires the hook program itself, this is the same
// for scripts and for agents wired by hand): it finds its session in SYMPOSIUM_SOCKET.

export const hookVerb: VerbEntry = {
  name: 'hook',
  summary: "tell the agent's session what it is doing (run from inside a session, by an agent's hook)",
  args: [
    { name: '<word>', description: `${HOOK_WORDS.join(', ')}` },
    { name: '[payload]', description: "the hook's JSON (else read from stdin when it is not a terminal)" },
  ],
  options: [],
  examples: [
    'symposium-mcp hook blocked   # from a script in a session: the agent asks something',
    `claude --settings '{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"symposium-mcp hook idle"}]}]}}'`,
  ],
  exitCodes: [['0', 'always (a hook must never fail the agent); SYMPOSIUM_DEBUG=1 prints what went wrong']],
  async run(_client, [word, payload]) {
    const w = word as string;
    if (!(HOOK_WORDS as readonly string[]).includes(w)) {
      if (process.env.SYMPOSIUM_DEBUG) process.stderr.write(`hook: unknown word ${JSON.stringify(w)}: use ${HOOK_WORDS.join(', ')}\n`);
      return 0;
    }
    // The socket's client (node:net, msgpackr, the protocol's decoders), loaded only by
    // this verb: evaluated with the CLI's top level, every command paid for it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { sendSignal } = require('../../hook/send-signal') as typeof import('../../hook/send-signal');
    const err = await sendSignal(w as HookWord, (payload as string | undefined) ?? null);
    if (err && process.env.SYMPOSIUM_DEBUG) process.stderr.write(`hook: ${err}\n`);
    return 0;
  },
};
