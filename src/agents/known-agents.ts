import * as path from 'node:path';

// What we know of the agents people run, in one table: how to recognise one from its
// command, how it says what it is doing (its window title, OSC 7501), how to wire its own
// hooks to the supervisor for one run without touching the user's configuration, and how
// to resume its last conversation. Any other program gets the generic rules (quiet
// output, the terminal's foreground job, bells and notifications). Checked against Claude
// Code 2.1, Codex 0.171 and Gemini CLI 0.61 (docs/agents.md has the details and sources).

export type AgentWord = 'working' | 'idle' | 'blocked';

export interface TitleRule {
  /** Matches the window title the agent sets (OSC 0/2). */
  pattern: RegExp;
  word: AgentWord;
}

/** Argv and environment additions that make the agent report to the supervisor. */
export interface HookWiring {
  /** The agent's argv with our additions (never the user's files). */
  command: string[];
  env: Record<string, string>;
}

export interface KnownAgent {
  name: string;
  /** argv[0]'s base names that run it. */
  programs: readonly string[];
  /** What its window title says, tried in order. */
  titles: readonly TitleRule[];
  /**
   * Wires its hooks or notify command to `hookCommand` (our `symposium-mcp hook` with its
   * arguments) for one run; null when it has none that can be given per run.
   */
  wireHooks: ((command: string[], hookCommand: string[]) => HookWiring) | null;
  /** The command that resumes its last conversation in the same directory. */
  resume: (command: string[]) => string[];
  /** Notifications it sends (OSC 9/777, bell) mean a turn ended, not a question (Codex). */
  notifiesOnDone: boolean;
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_\-./=:@%+,]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** A hook command as one shell string (Claude and Gemini run hook commands through a shell). */
function shellCommand(argv: string[]): string {
  return argv.map(quote).join(' ');
}

/** The argv without the options (and their values) that pick a conversation. */
function without(command: string[], flags: Record<string, boolean>): string[] {
  const out: string[] = [];
  for (let i = 0; i < command.length; i++) {
    const a = command[i]!;
    const [name] = a.split('=');
    if (name! in flags) {
      if (flags[name!] && !a.includes('=')) i++; // the flag takes a value
      continue;
    }
    out.push(a);
  }
  return out;
}

const CLAUDE: KnownAgent = {
  name: 'claude',
  programs: ['claude'],
  // ✳ idle; ◐/◑ (older: braille) spinner while working.
  titles: [
    { pattern: /^✳/, word: 'idle' },
    { pattern: /^[◐◑◒◓⠂⠐⠁⠈⠄⠠]/, word: 'working' },
  ],
  wireHooks(command, hook) {
    const h = (event: string) => [{ matcher: '', hooks: [{ type: 'command', command: shellCommand([...hook, event]) }] }];
    const settings = {
      hooks: {
        UserPromptSubmit: h('working'),
        PreToolUse: h('working'),
        // After a permission was granted the tool runs with no PreToolUse again: working from its end on.
        PostToolUse: h('working'),
        PermissionRequest: h('blocked'),
        Notification: h('notification'),
        Stop: h('idle'),
        StopFailure: h('idle'),
      },
    };
    return { command: [command[0]!, '--settings', JSON.stringify(settings), ...command.slice(1)], env: {} };
  },
  resume: (command) => [...without(command, { '--continue': false, '-c': false, '--resume': true, '-r': true, '--session-id': true }), '--continue'],
  notifiesOnDone: false,
};

/** Codex's options that take a value (`codex --help`, 0.171). */
const CODEX_VALUE_FLAGS = new Set(['-c', '--config', '-m', '--model', '-p', '--profile', '-a', '--ask-for-approval', '-s', '--sandbox', '-C', '--cd', '-i', '--image', '--enable', '--disable', '--local-provider', '--add-dir']);

const CODEX: KnownAgent = {
  name: 'codex',
  programs: ['codex'],
  titles: [
    { pattern: /Action Required/, word: 'blocked' },
    { pattern: /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, word: 'working' },
  ],
  wireHooks(command, hook) {
    // notify: argv, no shell; the JSON payload comes as the last argument. --no-daemon keeps
    // the agent (and so its notify) in this session instead of a shared background server.
    const notify = `notify=${JSON.stringify([...hook, 'idle'])}`;
    const args = command[1] === 'resume' ? command.slice(2) : command.slice(1);
    const head = command[1] === 'resume' ? [command[0]!, 'resume'] : [command[0]!];
    return { command: [...head, '--no-daemon', '-c', notify, ...args], env: {} };
  },
  resume(command) {
    const rest = command[1] === 'resume' ? command.slice(2).filter((a) => a !== '--last') : command.slice(1);
    // Its options stay; a prompt given at the first start is not given again.
    const opts: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (!a.startsWith('-')) continue;
      opts.push(a);
      if (CODEX_VALUE_FLAGS.has(a) && i + 1 < rest.length) opts.push(rest[++i]!);
    }
    return [command[0]!, 'resume', '--last', ...opts];
  },
  notifiesOnDone: true,
};

const GEMINI: KnownAgent = {
  name: 'gemini',
  programs: ['gemini'],
  titles: [
    { pattern: /Action Required/, word: 'blocked' },
    { pattern: /^◇\s+Ready/, word: 'idle' },
    { pattern: /^[✦⏲]/, word: 'working' },
  ],
  // Its hooks can only be given in a settings file the user or root owns: none per run.
  wireHooks: null,
  resume: (command) => [...without(command, { '--resume': true, '-r': true, '--session-id': true }), '--resume', 'latest'],
  notifiesOnDone: false,
};

const Q: KnownAgent = {
  name: 'q',
  programs: ['q', 'kiro-cli', 'qchat'],
  titles: [],
  wireHooks: null,
  resume(command) {
    const rest = without(command, { '--resume': false, '-r': false, '--resume-picker': false, '--resume-id': true });
    // `q` and `kiro-cli` take the chat subcommand; `qchat` is the chat itself.
    if (path.basename(rest[0] ?? '') !== 'qchat' && rest[1] !== 'chat') rest.splice(1, 0, 'chat');
    return [...rest, '--resume'];
  },
  notifiesOnDone: false,
};

const AIDER: KnownAgent = {
  name: 'aider',
  programs: ['aider'],
  titles: [],
  wireHooks(command, hook) {
    // Run through a shell, synchronously, with no payload: it cannot tell idle from a question.
    return { command: [command[0]!, '--notifications', '--notifications-command', shellCommand([...hook, 'attention']), ...command.slice(1)], env: {} };
  },
  resume: (command) => (command.includes('--restore-chat-history') ? command : [...command, '--restore-chat-history']),
  notifiesOnDone: false,
};

export const KNOWN_AGENTS: readonly KnownAgent[] = [CLAUDE, CODEX, GEMINI, Q, AIDER];

/** The known agent a command runs, or null for any other program. */
export function knownAgent(command: readonly string[]): KnownAgent | null {
  const prog = path.basename(command[0] ?? '');
  return KNOWN_AGENTS.find((a) => a.programs.includes(prog)) ?? null;
}

/** What the agent's title says, if it is a known agent's and the title matches a rule. */
export function titleWord(agent: KnownAgent | null, title: string): AgentWord | null {
  if (!agent) return null;
  for (const r of agent.titles) if (r.pattern.test(title.trimStart())) return r.word;
  return null;
}
