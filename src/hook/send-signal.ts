import { SupervisorLink } from '../link/supervisor-link';
import { type HookWord, interpret, parsePayload } from './payload';

// `symposium-mcp hook WORD [PAYLOAD]`: what an agent's hook runs (wired by `spawn --hooks`)
// and what any program in a session may run to say what it is doing. It finds its session
// in the environment the supervisor gave the agent (SYMPOSIUM_SOCKET), tells it, and exits
// 0 whatever happens, printing nothing: an agent shows a hook's output or treats its
// failure as a decision, and the state must never cost the agent anything.

/** A hook must not hold up the agent: everything is given up after this long. */
export const HOOK_TIMEOUT_MS = 2000;
/** Payloads larger than this are not read (a transcript is not sent in one). */
const STDIN_MAX = 1 << 20;

/** stdin's text when it is a pipe or a file, read for at most `ms`; null for a terminal or nothing. */
function readStdin(ms: number): Promise<string | null> {
  if (process.stdin.isTTY) return Promise.resolve(null);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      process.stdin.removeAllListeners();
      process.stdin.pause();
      process.stdin.destroy();
      resolve(size > 0 ? Buffer.concat(chunks).toString('utf8') : null);
    };
    const timer = setTimeout(done, ms);
    process.stdin.on('data', (d: Buffer) => {
      size += d.length;
      if (size > STDIN_MAX) return done();
      chunks.push(d);
    });
    process.stdin.on('end', done);
    process.stdin.on('error', done);
  });
}

/** Tells the session; resolves with what went wrong (null: told), never rejects. */
export async function sendSignal(word: HookWord, argPayload: string | null, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const socket = env.SYMPOSIUM_SOCKET;
  if (!socket) return 'not in a session (SYMPOSIUM_SOCKET is not set)';
  const deadline = Date.now() + HOOK_TIMEOUT_MS;
  const stdin = argPayload === null ? await readStdin(500) : null;
  const signal = interpret(word, parsePayload(argPayload ?? stdin));
  let link: SupervisorLink | null = null;
  try {
    link = await SupervisorLink.connect(socket, { mode: 'control', timeoutMs: Math.max(100, deadline - Date.now()) });
    await link.request('signal', signal, Math.max(100, deadline - Date.now()));
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    link?.close();
  }
}
