import type { LogEntry } from '../../client/types';
import { nonNegativeInt } from '../parse';
import { type VerbEntry, options } from '../verb';

interface Flags {
  follow?: boolean;
  lines?: number;
  since?: string;
  timestamps?: boolean;
}

/** Lines to stdout in batches (a long log is thousands of writes otherwise), each batch once the reader pauses. */
class Printer {
  private text = '';
  private timer: NodeJS.Immediate | null = null;

  constructor(private readonly timestamps: boolean) {}

  async line(e: LogEntry): Promise<void> {
    this.text += this.timestamps ? `${e.time} ${e.text}\n` : `${e.text}\n`;
    if (this.text.length >= 64 * 1024) await this.flush();
    else this.timer ??= setImmediate(() => void this.flush());
  }

  async flush(): Promise<void> {
    if (this.timer) clearImmediate(this.timer);
    this.timer = null;
    const text = this.text;
    this.text = '';
    if (text !== '' && !process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

export const logsVerb: VerbEntry = {
  name: 'logs',
  summary: 'print what the agent printed, as plain text (from its recording; also after it ended)',
  args: [{ name: '<id>', description: 'session id' }],
  options: [
    { flags: '-f, --follow', description: 'go on printing lines as the agent prints them, until it exits' },
    { flags: '-n, --lines <n>', description: 'only the last N lines', parse: nonNegativeInt },
    { flags: '--since <time>', description: 'only lines written since TIME: ISO 8601 (2026-12-06T12:00:00Z) or a span back from now (30s, 10m, 2h, 1d)' },
    { flags: '-t, --timestamps', description: 'begin each line with the time it was written (ISO 8601)' },
  ],
  examples: ['symposium-mcp agent logs my-agent-1 --lines 50', 'symposium-mcp agent logs my-agent-1 --since 10m --follow'],
  async run(client, [id], raw) {
    const f = options<Flags>(raw);
    const printer = new Printer(f.timestamps === true);
    const opts = { lines: f.lines, since: f.since };
    if (f.follow) {
      for await (const e of client.followLogs(id as string, opts)) await printer.line(e);
    } else {
      for (const e of await client.logs(id as string, opts)) await printer.line(e);
    }
    await printer.flush();
  },
};
