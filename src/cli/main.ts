import { Command, CommanderError, Option } from 'commander';
import { SymposiumClient } from '../client/client';
import { UserError, debugEnabled } from '../errors';
import { restoreHeld } from '../held-env';
import { keepInspectorClosed } from '../sys/inspector-signal';
import { VERSION } from '../version';
import { finishFrontEnd, inStandbyCopy, takeFrontEnd } from '../spawn-front-end';
import { exitQuietlyOnClosedStdout, writeErr } from './output';
import type { VerbEntry } from './verb';
import { AGENT_VERBS } from './verbs';
import { MCP_OPTIONS, mcpServeVerb, runMcpServer } from './verbs/mcp-serve';
import { webVerb } from './verbs/web';
import { hookVerb } from './verbs/hook';

// The command line: one commander command per verb entry (cli/verbs/). Errors print as
// `Error: …` on stderr, exit 1.

function examples(lines: string[]): string {
  return lines.length === 0 ? '' : `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

function addOptions(cmd: Command, specs: VerbEntry['options']): void {
  for (const o of specs) {
    const opt = new Option(o.flags, o.required ? `${o.description} (required)` : o.description);
    if (o.parse) opt.argParser(o.parse);
    if (o.default !== undefined) opt.default(o.default);
    if (o.required) opt.makeOptionMandatory(true);
    cmd.addOption(opt);
  }
}

function addVerb(parent: Command, verb: VerbEntry, client: () => SymposiumClient, setExit: (code: number) => void): void {
  const cmd = parent.command(verb.name).description(verb.summary);
  for (const a of verb.args) cmd.argument(a.name, a.description);
  addOptions(cmd, verb.options);
  if (verb.passThrough) cmd.passThroughOptions();
  cmd.addHelpText('after', examples(verb.examples) + exitCodes(verb.exitCodes));
  cmd.action(async (...params: unknown[]) => {
    // commander passes the arguments, then the options, then the command.
    const args = params.slice(0, verb.args.length);
    const opts = params[verb.args.length] as Record<string, unknown>;
    const code = await verb.run(client(), args, opts);
    if (typeof code === 'number') setExit(code);
  });
}

function exitCodes(codes: Array<[string, string]> | undefined): string {
  if (!codes) return '';
  return `\nExit codes:\n${codes.map(([c, m]) => `  ${c.padEnd(4)} ${m}`).join('\n')}\n`;
}

let exitCode = 0;

/**
 * The agent verb `argv` runs (`agent list …`), if it names one exactly: only that one is
 * made a command, as tmux looks up only the cmd_entry it runs. Its parsing, its errors and
 * its --help are the same (a verb's command knows nothing of its siblings); making all 13
 * with their options and help texts cost `list` ~0.2 MB and ~5 ms in a CPU profile.
 * Anything else (no verb, `agent --help`, a misspelt verb) gets the whole program.
 */
function namedAgentVerb(argv: readonly string[] | undefined): VerbEntry | undefined {
  if (!argv || argv[2] !== 'agent') return undefined;
  return AGENT_VERBS.find((v) => v.name === argv[3]);
}

export function buildProgram(argv?: readonly string[]): Command {
  let client: SymposiumClient | null = null;
  const getClient = () => (client ??= new SymposiumClient());
  const program = new Command('symposium-mcp')
    .description('Persistent background sessions for AI coding agents')
    .version(VERSION, '-V, --version', 'print the version')
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`Error: ${str.replace(/^error: /, '')}`),
    });

  const setExit = (code: number) => (exitCode = code);
  const agent = program
    .command('agent')
    .description('spawn, list, attach to, drive and kill agent sessions')
    .enablePositionalOptions();
  const named = namedAgentVerb(argv);
  for (const verb of named ? [named] : AGENT_VERBS) addVerb(agent, verb, getClient, setExit);
  const mcp = program.command('mcp').description('the MCP server for agents that drive agents').enablePositionalOptions();
  addVerb(mcp, mcpServeVerb, getClient, setExit);
  addVerb(program, webVerb, getClient, setExit);
  addVerb(program, hookVerb, getClient, setExit);

  // Alone, the program is the MCP server, as MCP clients start it; typed in a terminal it
  // shows the help instead.
  addOptions(program, MCP_OPTIONS);
  program.action(async (raw: Record<string, unknown>) => {
    if (process.stdin.isTTY) {
      program.outputHelp({ error: true });
      setExit(1);
      return;
    }
    await runMcpServer(raw);
  });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(argv);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Asked-for help and the version exit 0; help shown because a verb was missing
      // (`symposium-mcp agent`) exits 1, as does everything else commander reports.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.help') return err.exitCode;
      if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
      return 1;
    }
    if (err instanceof UserError) {
      writeErr(`Error: ${err.message}\n`);
      if (debugEnabled() && err.stack) writeErr(`${err.stack}\n`);
      return err.exitCode;
    }
    writeErr(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (debugEnabled() && err instanceof Error && err.stack) writeErr(`${err.stack}\n`);
    else writeErr('(set SYMPOSIUM_DEBUG=1 for details)\n');
    return 1;
  }
}

/** Entry point used by bin/symposium-mcp. */
export function run(): void {
  // `agent spawn`'s native front end started us: its pipe, before anything starts a child.
  takeFrontEnd();
  runCommand();
}

/** The standby's entry (src/standby/main.ts): the command comes later, from a front end. */
export function standby(): void {
  // Loaded here only: it needs node:net, which no other command's start should pay for.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('../standby/serve') as typeof import('../standby/serve')).serveStandby(runCommand);
}

/** Runs the command of process.argv, as this process's end (or its start as a supervisor). */
function runCommand(): void {
  // Some commands run for hours (mcp serve, web, attach, logs --follow, wait).
  keepInspectorClosed();
  // The launcher held these back from our own start-up; what we start gets them (held-env.ts).
  restoreHeld(process.env);
  // `agent capture ID | head`: the reader is gone; stop at once and quietly.
  const undoQuietExit = exitQuietlyOnClosedStdout();
  main(process.argv).then(
    (code) => {
      // This process became the agent's supervisor: it lives on, the command is done.
      if (finishFrontEnd(code)) return undoQuietExit();
      process.exitCode = code;
      // Checked on the next turn, once this one's promises are settled: an unhandled
      // rejection still fails the command.
      setImmediate(leaveOnceDone);
    },
    (err: unknown) => {
      writeErr(`Error: ${String(err)}\n`);
      if (finishFrontEnd(1)) return undoQuietExit();
      process.exitCode = 1;
      setImmediate(leaveOnceDone);
    },
  );
}

/**
 * Nothing left running (a command that printed its answer): leave now. Node would first
 * free the heap, page by page: ~260 syscalls of `agent list` (under strace). A command that
 * still has something open (a server, output still being written) ends as it always did,
 * once that is done. Not a copy of the standby, which must never reach the end of its
 * event loop: Node then waits for the tasks handed to its worker threads, which a copy does
 * not have, and a full collection hands some even under --single-threaded (V8's clearing
 * and evacuation jobs): copies that had run `agent list` hung there, in 3 of 4 runs of a
 * test. A copy runs only `agent spawn` and `agent list` (native/spawn.c): it leaves as soon
 * as its command is done and its output is written. (Counting what is still open cannot
 * tell: the copy's stdout and stderr pipes count, and never close.)
 */
function leaveOnceDone(): void {
  if (!inStandbyCopy()) {
    if (process.getActiveResourcesInfo().length === 0) process.exit();
    return;
  }
  // Output queued for a full pipe (a slow reader of `agent list --json`) is written first.
  if (process.stdout.writableLength + process.stderr.writableLength === 0) process.exit();
  else setTimeout(() => setImmediate(leaveOnceDone), COPY_OUTPUT_LOOK_MS);
}

/** How often a copy of the standby looks whether its output has gone out. */
const COPY_OUTPUT_LOOK_MS = 10;

