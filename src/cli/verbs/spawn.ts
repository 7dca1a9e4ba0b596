import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SymposiumClient } from '../../client/client';
import { knownAgent } from '../../agents/known-agents';
import { RELAY_BINARY } from '../../dist-dir';
import { UserError } from '../../errors';
import type { BackendName } from '../../store/types';
import { userTerminalSize } from '../../spawn-front-end';
import { type VerbEntry, options, print, warn } from '../verb';
import { positiveInt, seconds, size } from '../parse';

interface Flags {
  uuid: string;
  workdir: string;
  backend?: string;
  cols?: number;
  rows?: number;
  size?: string;
  idle?: number;
  /** false with --no-record. */
  record?: boolean;
  recordInput?: boolean;
  recordCap?: number;
  hooks?: boolean;
  onIdle?: string;
  onBlocked?: string;
  onExit?: string;
}

/** spawn's own options, as they could be mistyped after the agent's command. */
const OWN_FLAGS = ['--uuid', '--workdir', '--backend', '--cols', '--rows', '--size', '--idle', '--no-record', '--record-input', '--record-cap', '--hooks', '--no-hooks', '--on-idle', '--on-blocked', '--on-exit'];

/** Everything after CMD belongs to the agent: say so when one of spawn's own options is there. */
function optionsAfterCommand(command: string[]): void {
  const misplaced = command.slice(1).filter((a) => OWN_FLAGS.includes(a.split('=')[0]!));
  if (misplaced.length === 0) return;
  warn(
    `Note: ${misplaced.join(', ')} came after the command ${command[0]}, so ${misplaced.length === 1 ? 'it goes' : 'they go'} to ${command[0]}, not to spawn. Everything after CMD belongs to the agent: put spawn's options before it.`,
  );
}

/**
 * Without the native relay (no C compiler at install), keys go through Node: say so once
 * per home, not at every spawn.
 */
function relayNotice(client: SymposiumClient): void {
  if (process.env.SYMPOSIUM_NATIVE_RELAY === '0' || fs.existsSync(RELAY_BINARY)) return;
  const marker = path.join(client.home, '.no-native-relay-noticed');
  if (fs.existsSync(marker)) return;
  warn(
    'Note: the native key relay was not built when symposium-mcp was installed (no C compiler was found), so keystrokes and floods go through Node: echo is about twice as slow. Install a C compiler (cc or gcc) and reinstall symposium-mcp to get it.',
  );
  try {
    fs.writeFileSync(marker, '', { flag: 'wx', mode: 0o600 });
  } catch {
    /* said again next time: harmless */
  }
}

/** `--hooks` for a program whose hooks cannot be wired: say what its state follows instead. */
function hooksNotice(command: string[]): void {
  const known = knownAgent(command);
  if (known?.wireHooks) return;
  const name = path.basename(command[0] ?? '');
  warn(
    known
      ? `Note: ${known.name} takes no hooks for one run (only in its own settings files): its state follows its window title and output. See docs/agents.md.`
      : `Note: --hooks: ${name} is not an agent whose hooks we know; its state follows its output, bells, notifications and foreground jobs. It can report itself with \`symposium-mcp hook WORD\`.`,
  );
}

export const spawnVerb: VerbEntry = {
  name: 'spawn',
  summary: 'start an agent in a persistent background session',
  args: [{ name: '<command...>', description: 'the agent command and its arguments' }],
  options: [
    { flags: '--uuid <id>', description: 'session id: 1-64 letters, digits, - or _', required: true },
    { flags: '--workdir <dir>', description: 'working directory of the agent', required: true },
    { flags: '--backend <name>', description: 'pty (default) or tmux; default from SYMPOSIUM_AGENT_BACKEND' },
    { flags: '--cols <n>', description: 'initial width (default: this terminal, else 120)', parse: positiveInt },
    { flags: '--rows <n>', description: 'initial height (default: this terminal, else 40)', parse: positiveInt },
    { flags: '--size <policy>', description: 'window size policy with several viewers: latest or smallest', default: 'latest' },
    { flags: '--idle <seconds>', description: 'quiet time after which the agent counts as idle (default 2)', parse: seconds },
    { flags: '--no-record', description: 'do not record what the agent prints (agent logs, agent record); SYMPOSIUM_RECORD=0 does so for every spawn' },
    { flags: '--record-input', description: 'record what is typed into the agent too (off by default: it holds secrets)' },
    { flags: '--record-cap <size>', description: 'how much of the recording is kept, e.g. 256M (default 64M: the last 64 MiB)', parse: size },
    { flags: '--hooks', description: "wire a known agent's own hooks (Claude Code, Codex, aider) to its state, for this run only; nothing of yours is changed" },
    { flags: '--no-hooks', description: 'not even when ~/.symposium/config.json says agentHooks' },
    { flags: '--on-idle <cmd>', description: 'shell command run each time the agent turns idle (SYMPOSIUM_ID, _STATE, _REASON… in its environment)' },
    { flags: '--on-blocked <cmd>', description: 'shell command run each time the agent asks something (a permission, a question)' },
    { flags: '--on-exit <cmd>', description: 'shell command run when the agent exits (SYMPOSIUM_EXIT_CODE, SYMPOSIUM_EXIT_SIGNAL)' },
  ],
  passThrough: true,
  examples: [
    'symposium-mcp agent spawn --uuid my-agent-1 --workdir ~/project q chat --resume',
    'symposium-mcp agent spawn --uuid fix-42 --workdir . --backend tmux -- claude --continue',
    `symposium-mcp agent spawn --uuid tests --workdir . --hooks --on-blocked 'notify-send "$SYMPOSIUM_ID asks" "$SYMPOSIUM_NOTIFICATION"' -- claude`,
  ],
  async run(client, [command], raw) {
    const f = options<Flags>(raw);
    optionsAfterCommand(command as string[]);
    const tty = userTerminalSize();
    const size = f.size ?? 'latest';
    if (size !== 'latest' && size !== 'smallest') throw new UserError(`Unknown size policy ${JSON.stringify(size)}: use latest or smallest`);
    await client.spawn({
      id: f.uuid,
      workdir: f.workdir,
      command: command as string[],
      backend: f.backend as BackendName | undefined,
      cols: f.cols ?? tty?.cols,
      rows: f.rows ?? tty?.rows,
      sizePolicy: size,
      idleMs: f.idle !== undefined ? Math.round(f.idle * 1000) : undefined,
      record: f.record === false ? false : undefined,
      recordInput: f.recordInput,
      recordCapBytes: f.recordCap,
      hooks: f.hooks,
      onIdle: f.onIdle,
      onBlocked: f.onBlocked,
      onExit: f.onExit,
    });
    print('Agent session spawned successfully');
    if (f.hooks === true) hooksNotice(command as string[]);
    if (f.backend !== 'tmux') relayNotice(client);
  },
};
