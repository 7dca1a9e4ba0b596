import type { SymposiumClient } from '../client/client';
import { writeErr, writeOut } from './output';

// A verb of the command line, described once and declaratively (as tmux describes a
// command in its cmd_entry): its name, arguments, options, examples and what it runs.
// main.ts turns the list of them into the program; the verb's work is the client
// library's, the verb only parses and prints.

export interface ArgSpec {
  /** `<id>`, `[text...]`, `<command...>`. */
  name: string;
  description: string;
}

export interface OptionSpec {
  /** As commander spells them: `--lines <n>`, `--idle [seconds]`, `--json`. */
  flags: string;
  description: string;
  /** Turns the value into what the verb gets (throw InvalidArgumentError when it is wrong). */
  parse?: (value: string, previous: unknown) => unknown;
  default?: unknown;
  /** Marked as required in --help, refused when missing. */
  required?: boolean;
}

export interface VerbEntry {
  name: string;
  /** One line, for the list of verbs. */
  summary: string;
  args: ArgSpec[];
  options: OptionSpec[];
  examples: string[];
  /** Exit codes other than 0 and 1, for --help: [code, meaning]. */
  exitCodes?: Array<[string, string]>;
  /** Options after the first argument belong to it (spawn: the agent's own flags). */
  passThrough?: boolean;
  /** Positional arguments in order (a variadic one as an array), then the options. Returns the exit code. */
  run(client: SymposiumClient, args: unknown[], opts: Record<string, unknown>): Promise<number | void>;
}

/** The verb's own option type, for its `run`. */
export function options<T>(opts: Record<string, unknown>): T {
  return opts as T;
}

export function print(text: string): void {
  writeOut(text.endsWith('\n') ? text : `${text}\n`);
}

export function warn(text: string): void {
  writeErr(text.endsWith('\n') ? text : `${text}\n`);
}

/** JSON for --json: two-space indented, one trailing newline. */
export function printJson(value: unknown): void {
  writeOut(`${JSON.stringify(value, null, 2)}\n`);
}
