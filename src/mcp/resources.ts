import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { SymposiumClient } from '../client/client';
import { errorMessage } from '../errors';
import { Mcp, keepTail } from './limits';

// Each agent's screen as a resource (`agent://ID/screen`, plain text) and the list of
// agents (`agent://list`, JSON). A client may subscribe to them: the server looks at the
// subscribed agents every Mcp.ResourcePollMs and sends `resources/updated` when one changed,
// at most every Mcp.ResourceThrottleMs per resource. It looks at nothing while nobody is
// subscribed.

const LIST_URI = 'agent://list';

function screenUri(id: string): string {
  return `agent://${id}/screen`;
}

/** -32002: the resource does not exist (MCP's code for it). */
function notFound(uri: string, why: string): Error {
  return Object.assign(new Error(`Resource ${uri} not found: ${why}`), { code: -32002 });
}

export class AgentResources {
  private readonly subscribed = new Set<string>();
  /** What each subscribed resource showed last time, and when it was last announced. */
  private readonly seen = new Map<string, { key: string; sentAt: number }>();
  private timer: NodeJS.Timeout | null = null;
  private knownIds = '';

  constructor(
    private readonly mcp: McpServer,
    private readonly client: SymposiumClient,
  ) {}

  register(): void {
    const { mcp, client } = this;
    mcp.registerResource(
      'agent-screen',
      new ResourceTemplate('agent://{id}/screen', {
        list: async () => ({
          resources: (await client.list({ detail: false })).map((a) => ({ uri: screenUri(a.id), name: `${a.id} screen`, mimeType: 'text/plain' })),
        }),
        complete: { id: async (v) => (await client.list({ detail: false })).map((a) => a.id).filter((i) => i.startsWith(v)) },
      }),
      { title: "An agent's screen", description: 'What the agent shows now (plain text; its last screen once it ended).', mimeType: 'text/plain' },
      async (uri, vars) => {
        const id = String(vars.id);
        try {
          const c = await client.capture(id);
          return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: keepTail(c.text, Mcp.MaxResultChars).text }] };
        } catch (err) {
          throw notFound(uri.href, errorMessage(err));
        }
      },
    );
    mcp.registerResource('agents', LIST_URI, { title: 'Agents', description: 'Every agent session, as JSON.', mimeType: 'application/json' }, async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await client.list(), null, 2) }],
    }));
    mcp.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
      this.subscribed.add(req.params.uri);
      this.poll();
      return {};
    });
    mcp.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
      this.subscribed.delete(req.params.uri);
      this.seen.delete(req.params.uri);
      return {};
    });
  }

  /** Looks once now, then every ResourcePollMs while anything is subscribed. */
  private poll(): void {
    if (this.timer) return;
    const tick = async () => {
      this.timer = null;
      if (this.subscribed.size === 0) return;
      await this.look().catch(() => {});
      if (this.subscribed.size > 0) this.timer = setTimeout(() => void tick(), Mcp.ResourcePollMs);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  private async look(): Promise<void> {
    const agents = await this.client.list();
    const ids = agents.map((a) => a.id).join('\n');
    if (ids !== this.knownIds) {
      if (this.knownIds !== '') this.mcp.sendResourceListChanged();
      this.knownIds = ids;
    }
    for (const uri of this.subscribed) {
      let key: string;
      if (uri === LIST_URI) key = JSON.stringify(agents.map((a) => [a.id, a.status, a.state, a.stateReason]));
      else {
        const a = agents.find((x) => screenUri(x.id) === uri);
        // The screen changed when the agent printed (lastOutputAt) or ended.
        key = a ? `${a.status} ${a.lastOutputAt ?? ''} ${a.endedAt ?? ''}` : 'gone';
      }
      const before = this.seen.get(uri);
      if (before?.key === key) continue;
      if (before && Date.now() - before.sentAt < Mcp.ResourceThrottleMs) continue; // the next look sends it
      this.seen.set(uri, { key, sentAt: Date.now() });
      if (before) void this.mcp.server.sendResourceUpdated({ uri }).catch(() => {});
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.subscribed.clear();
  }
}
