import { parseTier } from '../../mcp/tiers';
import { type VerbEntry, options } from '../verb';
import { seconds } from '../parse';

// `symposium-mcp mcp serve` (and the bare `symposium-mcp` without a terminal): the MCP
// server over stdio. Its module, and the SDK with it, load only here: the other commands
// do not pay their ~200 ms.

export interface McpFlags {
  allow?: string;
  waitCap?: number;
}

export const MCP_OPTIONS: VerbEntry['options'] = [
  { flags: '--allow <tier>', description: 'what MCP clients may do: read, drive (default: + send, queue) or spawn (+ spawn, kill, restart)' },
  { flags: '--wait-cap <seconds>', description: 'longest a wait call blocks before it returns "pending" (default 25)', parse: seconds },
];

export async function runMcpServer(raw: Record<string, unknown>): Promise<void> {
  const f = options<McpFlags>(raw);
  const tier = parseTier(f.allow);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { serve } = require('../../mcp/server') as typeof import('../../mcp/server');
  await serve({ tier, waitCapMs: f.waitCap !== undefined ? Math.round(f.waitCap * 1000) : undefined });
}

export const mcpServeVerb: VerbEntry = {
  name: 'serve',
  summary: 'run the MCP server on stdin/stdout (what MCP clients start)',
  args: [],
  options: MCP_OPTIONS,
  examples: ['claude mcp add symposium -- symposium-mcp mcp serve --allow spawn', 'symposium-mcp mcp serve --allow read'],
  run: (_client, _args, raw) => runMcpServer(raw),
};
