import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SymposiumClient } from '../client/client';
import { VERSION } from '../version';
import { Mcp } from './limits';
import { LineTransport } from './line-transport';
import { AgentResources } from './resources';
import { type Tier } from './tiers';
import { registerTools } from './tool';
import { killTool, listTool, restartTool, spawnTool, statusTool } from './tools/agents';
import { queueTool, sendTool } from './tools/drive';
import { captureTool, eventsTool } from './tools/read';
import { waitTool } from './tools/wait';

// The MCP server: symposium-mcp's verbs as tools for agents that drive agents, over stdio,
// on the client library. It runs until its client closes stdin.

const TOOLS = [listTool, statusTool, captureTool, eventsTool, waitTool, sendTool, queueTool, spawnTool, killTool, restartTool];

export interface ServeOptions {
  tier: Tier;
  waitCapMs?: number;
}

const INSTRUCTIONS = `symposium-mcp runs AI coding agents (and any terminal program) in persistent background sessions.
Typical use: spawn an agent, queue it a task, wait until it is idle (wait returns "pending" at ~25 s: call it again), then capture what it did (pass the previous nextLine as since to read only what is new). Prefer wait over polling capture.`;

export async function serve(opts: ServeOptions): Promise<void> {
  // stdout carries the protocol and nothing else: anything printed by mistake goes to stderr.
  console.log = console.info = console.debug = (...a: unknown[]) => console.error(...a);
  const client = new SymposiumClient();
  const mcp = new McpServer(
    { name: 'symposium-mcp', version: VERSION },
    { capabilities: { tools: { listChanged: false }, resources: { subscribe: true, listChanged: true }, logging: {} }, instructions: INSTRUCTIONS },
  );
  const tools = registerTools(mcp, TOOLS, opts.tier, { client, cwd: process.cwd(), waitCapMs: opts.waitCapMs ?? Mcp.WaitCapMs });
  const resources = new AgentResources(mcp, client);
  resources.register();
  const transport = new LineTransport();
  const closed = new Promise<void>((resolve) => {
    mcp.server.onclose = () => resolve();
  });
  mcp.server.onerror = (err) => process.stderr.write(`symposium-mcp: ${err.message.slice(0, 300)}\n`);
  process.stderr.write(`symposium-mcp ${VERSION}: MCP server on stdio, tier ${opts.tier} (tools: ${tools.join(', ')})\n`);
  await mcp.connect(transport);
  await closed;
  resources.close();
  // Waits in flight hold sockets to supervisors: they are of no use once the client is gone.
  process.exit(0);
}
