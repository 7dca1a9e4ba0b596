import { HOOK_WORDS, type HookWord } from './payload';
import { sendSignal } from './send-signal';

// The hook as its own small program (dist/hook.bundle.js, copied into each session's
// directory at start so that an upgrade of the install cannot break the hooks of a
// running agent): `node hook.js WORD [PAYLOAD]`. Silent, exit 0, whatever happens.

const word = process.argv[2];
if (word !== undefined && (HOOK_WORDS as readonly string[]).includes(word)) {
  void sendSignal(word as HookWord, process.argv[3] ?? null).finally(() => process.exit(0));
} else {
  process.exit(0);
}
