import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { SymposiumClient } from '../client/client';
import { errorMessage } from '../errors';
import { Mcp } from './limits';
import { type Tier, allows } from './tiers';

// A tool of the MCP server, described once (as the CLI's verbs are): its name, what it
// needs (its tier), its input and output schemas, and what it does. server.ts registers
// the ones the server's tier allows. A tool's failure is a tool error (isError) whose text
// is the client library's message, as the CLI prints it.

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ToolContext {
  client: SymposiumClient;
  /** Where `spawn` starts an agent when no workdir is given: the server's own directory. */
  cwd: string;
  waitCapMs: number;
}

export interface ToolResult<O> {
  structured: O;
  /** The same, as text for the model to read. */
  text: string;
}

export interface ToolSpec<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  tier: Tier;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  run(ctx: ToolContext, args: z.infer<z.ZodObject<I>>, extra: Extra): Promise<ToolResult<z.infer<z.ZodObject<O>>>>;
}

/** Keeps the type of one tool's spec while it goes into a list of differently typed ones. */
export function tool<I extends z.ZodRawShape, O extends z.ZodRawShape>(spec: ToolSpec<I, O>): ToolSpec<z.ZodRawShape, z.ZodRawShape> {
  return spec as unknown as ToolSpec<z.ZodRawShape, z.ZodRawShape>;
}

export function registerTools(mcp: McpServer, specs: ReadonlyArray<ToolSpec<z.ZodRawShape, z.ZodRawShape>>, tier: Tier, ctx: ToolContext): string[] {
  const names: string[] = [];
  for (const spec of specs) {
    if (!allows(tier, spec.tier)) continue;
    names.push(spec.name);
    mcp.registerTool(
      spec.name,
      { title: spec.title, description: spec.description, inputSchema: spec.input, outputSchema: spec.output, annotations: spec.annotations },
      async (args: Record<string, unknown>, extra: Extra) => {
        try {
          const r = await spec.run(ctx, args as z.infer<z.ZodObject<z.ZodRawShape>>, extra);
          return { content: [{ type: 'text' as const, text: r.text }], structuredContent: r.structured as Record<string, unknown> };
        } catch (err) {
          // No structured content on errors: a client validates it against the output schema.
          return { isError: true, content: [{ type: 'text' as const, text: errorMessage(err).slice(0, Mcp.MaxErrorChars) }] };
        }
      },
    );
  }
  return names;
}
