import { z } from 'zod';
import { Mcp, keepTail } from '../limits';
import { captureShape } from '../schemas';
import { tool } from '../tool';

// Reading an agent's screen, whole or only what is new since the last call.

export const captureTool = tool({
  name: 'capture',
  title: "Read an agent's screen",
  description:
    "What the agent's screen shows, as text. With `scrollback`, its history too. Pass the `nextLine` of the previous call as `since` to read only what came after it (history included). Long text is cut to its newest part (`truncated`): ask with `lines` or `since` for less.",
  tier: 'read',
  input: {
    id: z.string(),
    lines: z.number().int().min(1).max(100_000).optional().describe('only the last N lines'),
    scrollback: z.boolean().optional().describe('include the history above the screen'),
    since: z.number().int().min(0).optional().describe('only lines from this number on: the nextLine of an earlier capture'),
  },
  output: captureShape,
  annotations: { readOnlyHint: true },
  async run(ctx, args) {
    const c = await ctx.client.capture(args.id, { lines: args.lines, scrollback: args.scrollback, since: args.since });
    const { text, cut } = keepTail(c.text, Mcp.MaxResultChars);
    const structured = {
      id: c.id,
      status: c.status,
      text,
      cols: c.cols,
      rows: c.rows,
      final: c.final,
      firstLine: c.firstLine === null ? null : c.firstLine + (cut > 0 ? c.text.slice(0, cut).split('\n').length - 1 : 0),
      nextLine: c.nextLine,
      skipped: c.skipped,
      alternate: c.alternate,
      truncated: cut > 0,
    };
    const notes = [
      cut > 0 ? `[cut: the first ${cut} characters; ask with lines or since for less]` : '',
      c.skipped > 0 ? `[${c.skipped} lines had already left the history]` : '',
      c.nextLine !== null ? `[nextLine ${c.nextLine}: pass it as since to read only what comes after]` : '',
    ].filter(Boolean);
    return { structured, text: [text, ...notes].join('\n') };
  },
});
