import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { UserError, debugEnabled } from './errors';
import { restoreHeld } from './held-env';

// The command line: wires each verb to its module. Errors print as `Error: …`, exit 1.
// Each verb's module loads only when that verb runs: start-up time is paid per command.

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
/** Node timers hold at most 2^31-1 ms (24.8 days); longer waits would fire at once. */
const MAX_SECONDS = 2_000_000;
function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > MAX_SECONDS) {
    throw new InvalidArgumentError(`expected a number of seconds from 0 to ${MAX_SECONDS}`);
  }
  return n;
}
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

let exitCode = 0;

export function buildProgram(): Command {
  const program = new Command('symposium-mcp')
    .description('Persistent background sessions for AI coding agents')
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`Error: ${str.replace(/^error: /, '')}`),
    });

  const agent = program
    .command('agent')
    .description('spawn, list, attach to, drive and kill agent sessions')
    .enablePositionalOptions();

  agent
    .command('spawn')
    .description('start an agent in a persistent background session')
    .requiredOption('--uuid <id>', 'session id: 1-64 letters, digits, - or _')
    .requiredOption('--workdir <dir>', 'working directory of the agent')
    .option('--backend <name>', 'pty (default) or tmux; default from SYMPOSIUM_AGENT_BACKEND')
    .option('--cols <n>', 'initial width (default: this terminal, else 120)', positiveInt)
    .option('--rows <n>', 'initial height (default: this terminal, else 40)', positiveInt)
    .option('--size <policy>', 'window size policy with several viewers: latest or smallest', 'latest')
    .option('--idle <seconds>', 'quiet time after which the agent counts as idle (default 2)', seconds)
    .argument('<command...>', 'the agent command and its arguments')
    .passThroughOptions()
    .addHelpText('after', examples('symposium-mcp agent spawn --uuid my-agent-1 --workdir ~/project q chat --resume', 'symposium-mcp agent spawn --uuid fix-42 --workdir . --backend tmux -- claude --continue'))
    .action(async (command: string[], opts) => (await import('./commands/spawn')).spawnCommand(opts, command));

  agent
    .command('list')
    .description('list agent sessions with their true status')
    .option('--json', 'machine-readable output with backend, pid, size, viewers, activity')
    .addHelpText('after', examples('symposium-mcp agent list', 'symposium-mcp agent list --json'))
    .action(async (opts) => (await import('./commands/list')).listCommand(opts));

  agent
    .command('attach')
    .description('attach this terminal to an agent (detach with Ctrl-\\)')
    .argument('<id>', 'session id')
    .option('--read-only', 'watch without sending input or changing the size')
    .option('--detach-key <key>', 'detach key, e.g. C-\\ (default), C-] or C-b; press twice to send it', 'C-\\')
    .option('--print', 'print the tmux command instead of attaching (tmux backend)')
    .addHelpText('after', examples('symposium-mcp agent attach my-agent-1', 'symposium-mcp agent attach my-agent-1 --read-only --detach-key C-]'))
    .action(async (id: string, opts) => {
      exitCode = await (await import('./commands/attach')).attachCommand(id, opts);
    });

  agent
    .command('kill')
    .description('end an agent session and remove its record')
    .argument('<id>', 'session id')
    .addHelpText('after', examples('symposium-mcp agent kill my-agent-1'))
    .action(async (id: string) => (await import('./commands/kill')).killCommand(id));

  agent
    .command('send')
    .description('type text and keys into an agent now')
    .argument('<id>', 'session id')
    .argument('[text...]', 'text to type (pasted whole)')
    .option('--enter', 'press Enter after the text')
    .option('--key <key>', 'a named key: Enter, Escape, Tab, Up, C-c, M-x… (repeatable)', collect)
    .addHelpText('after', examples('symposium-mcp agent send my-agent-1 "Run the tests" --enter', 'symposium-mcp agent send my-agent-1 --key C-c'))
    .action(async (id: string, text: string[], opts) => (await import('./commands/send')).sendCommand(id, text, opts));

  agent
    .command('queue')
    .description('queue a task, delivered when the agent is idle')
    .argument('<id>', 'session id')
    .argument('[text...]', 'the task')
    .option('--list', 'show the queue with each task state')
    .option('--clear', 'drop tasks not yet delivered')
    .option('--json', 'with --list: machine-readable output')
    .addHelpText('after', examples('symposium-mcp agent queue my-agent-1 "Implement authentication system"', 'symposium-mcp agent queue my-agent-1 --list'))
    .action(async (id: string, text: string[], opts) => (await import('./commands/queue')).queueCommand(id, text, opts));

  agent
    .command('capture')
    .description("print what the agent's screen shows")
    .argument('<id>', 'session id')
    .option('--lines <n>', 'only the last N lines', positiveInt)
    .option('--scrollback', 'include the scrollback history')
    .option('--ansi', 'keep colours and attributes')
    .option('--json', 'text, size and cursor position as JSON')
    .addHelpText('after', examples('symposium-mcp agent capture my-agent-1', 'symposium-mcp agent capture my-agent-1 --scrollback --lines 200'))
    .action(async (id: string, opts) => (await import('./commands/capture')).captureCommand(id, opts));

  agent
    .command('wait')
    .description('block until the agent is idle, has exited, or shows some text')
    .argument('<id>', 'session id')
    .option('--idle [seconds]', "until quiet for SECONDS (default: the session's idle time)")
    .option('--exit', "until the agent exits; exits with the agent's code")
    .option('--text <regex>', 'until the screen matches REGEX')
    .option('--timeout <seconds>', 'give up after SECONDS, exit code 124', seconds)
    .addHelpText('after', examples('symposium-mcp agent wait my-agent-1 --idle 5 --timeout 600', 'symposium-mcp agent wait my-agent-1 --text "All tests passed"'))
    .action(async (id: string, opts) => {
      exitCode = await (await import('./commands/wait')).waitCommand(id, opts);
    });

  agent
    .command('restart')
    .description('start an ended session again with its recorded command')
    .argument('<id>', 'session id')
    .addHelpText('after', examples('symposium-mcp agent restart my-agent-1'))
    .action(async (id: string) => (await import('./commands/restart')).restartCommand(id, {}));

  agent
    .command('prune')
    .description('remove the records of all ended sessions')
    .addHelpText('after', examples('symposium-mcp agent prune'))
    .action(async () => (await import('./commands/prune')).pruneCommand());

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; everything else commander reports exits 1.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
      return 1;
    }
    if (err instanceof UserError) {
      process.stderr.write(`Error: ${err.message}\n`);
      if (debugEnabled() && err.stack) process.stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (debugEnabled() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('(set SYMPOSIUM_DEBUG=1 for details)\n');
    return 1;
  }
}


/** Entry point used by bin/symposium-mcp. */
export function run(): void {
  // The launcher held these back from our own start-up; what we start gets them (held-env.ts).
  restoreHeld(process.env);
  // `agent capture ID | head`: the reader is gone; stop at once and quietly, as a program
  // killed by SIGPIPE would (Node ignores that signal and would print a stack instead).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`Error: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
