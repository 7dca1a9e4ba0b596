import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, ROOT, type Sandbox, sandboxPerTest, waitFor } from '../helpers/sandbox';

// The MCP server as MCP clients use it: the SDK's own client over stdio, against real
// supervisors; and raw JSON-RPC lines, as a client written from the spec would send them.

const sandbox = sandboxPerTest();
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
});

async function connect(sb: Sandbox, args: string[]): Promise<Client> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(sb.env)) if (v !== undefined) env[k] = v;
  const transport = new StdioClientTransport({ command: CLI, args, env, cwd: sb.work, stderr: 'pipe' });
  const client = new Client({ name: 'test', version: '0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

type Structured = Record<string, unknown>;

async function call(c: Client, name: string, args: Record<string, unknown>, opts: Parameters<Client['callTool']>[2] = {}): Promise<{ s: Structured; text: string; isError: boolean }> {
  const r = await c.callTool({ name, arguments: args }, undefined, { timeout: 60_000, ...opts });
  const text = (r.content as Array<{ type: string; text: string }>).map((x) => x.text).join('\n');
  return { s: (r.structuredContent ?? {}) as Structured, text, isError: r.isError === true };
}

const AGENT = path.join(ROOT, 'test', 'fixtures', 'agents', 'fake-agent.sh');

describe('the MCP server', () => {
  it('spawns an agent, queues a task, waits across pending returns, reads what is new, and kills it', async () => {
    const sb = sandbox();
    const c = await connect(sb, ['mcp', 'serve', '--allow', 'spawn', '--wait-cap', '1']);
    const tools = (await c.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['capture', 'events', 'kill', 'list', 'queue', 'restart', 'send', 'spawn', 'status', 'wait']);
    for (const t of (await c.listTools()).tools) expect(t.outputSchema, t.name).toBeDefined();

    const spawned = await call(c, 'spawn', { command: ['bash', AGENT, path.join(sb.dir, 'agent.log')], cols: 80, rows: 20 });
    expect(spawned.isError, spawned.text).toBe(false);
    const id = spawned.s.id as string;
    expect(id).toMatch(/^bash-[0-9a-f]{4}$/);
    expect(spawned.s).toMatchObject({ status: 'Running', workdir: sb.work, backend: 'pty' });

    const queued = await call(c, 'queue', { id, text: 'the-task' });
    expect(queued.s).toMatchObject({ id, task: { index: 1, text: 'the-task', state: 'queued' } });

    // The busy start (1.5 s) outlasts the 1 s cap: pending, with what to call, then satisfied.
    const progress: number[] = [];
    let waited = await call(c, 'wait', { id, until: 'text', pattern: 'working 15' }, { onprogress: (p) => progress.push(p.progress) });
    const statuses = [waited.s.status];
    for (let i = 0; i < 20 && waited.s.status === 'pending'; i++) {
      expect(waited.s.next).toBe('call wait with the same arguments');
      waited = await call(c, 'wait', { id, until: 'text', pattern: 'working 15' });
      statuses.push(waited.s.status);
    }
    expect(waited.s).toMatchObject({ status: 'satisfied', match: 'working 15' });
    const first = await call(c, 'capture', { id });
    expect(typeof first.s.nextLine).toBe('number');
    await waitFor(async () => (await call(c, 'status', { id })).s.queued === 0, 20_000);
    let idle = await call(c, 'wait', { id, until: 'idle', idleSeconds: 0.5 });
    while (idle.s.status === 'pending') idle = await call(c, 'wait', { id, until: 'idle', idleSeconds: 0.5 });
    expect(idle.s.status).toBe('satisfied');

    // Only what is new since the first capture: the task's lines, not the start's again.
    const since = await call(c, 'capture', { id, since: first.s.nextLine });
    expect(since.s.text).toContain('the-task');
    expect(since.s.firstLine).toBe(first.s.nextLine);
    expect(since.s.text).not.toContain('working 15');
    expect(since.text).toMatch(/\[nextLine \d+: pass it as since/);

    // The task's turn: wait until it is done (pending at the 1 s cap until then), then read it.
    let turn = await call(c, 'wait', { id, until: 'task', task: 1 });
    for (let i = 0; i < 30 && turn.s.status === 'pending'; i++) turn = await call(c, 'wait', { id, until: 'task', task: 1 });
    expect(turn.s).toMatchObject({ status: 'satisfied', task: { index: 1, state: 'done', doneState: 'idle' } });
    const its = await call(c, 'capture', { id, task: 1 });
    expect(its.s.text).toContain('the-task');
    expect(its.s.text).not.toContain('working 15');
    // Events since a cursor: everything, then only what is newer.
    const ev = await call(c, 'events', { id });
    const types = (ev.s.events as Structured[]).map((e) => `${e.type}${e.type === 'task' ? ` ${e.state}` : ''}`);
    expect(types[0]).toBe('spawned');
    expect(types).toEqual(expect.arrayContaining(['task typed', 'task submitted', 'task started', 'task done']));
    expect(ev.text).toMatch(/ task 1 done$/m);
    const none = await call(c, 'events', { id, since: ev.s.next as number });
    expect(none.s.events).toEqual([]);
    expect(none.text).toBe('No new events.');

    const listed = await call(c, 'list', {});
    expect((listed.s.agents as Structured[]).map((a) => a.id)).toEqual([id]);
    expect(listed.text).toContain(`${id} - Running`);

    const killed = await call(c, 'kill', { id });
    expect(killed.s).toEqual({ id, killed: true });
    expect((await call(c, 'list', {})).s.agents).toEqual([]);
    expect(statuses[0]).toBe('pending');
    // Progress while the first wait waited, rising.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('errors are tool errors with the CLI texts; the default tier cannot spawn; a wait runs out as timeout', async () => {
    const sb = sandbox();
    const c = await connect(sb, []);
    const names = (await c.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain('spawn');
    expect(names).toContain('queue');
    const missing = await call(c, 'capture', { id: 'nope' });
    expect(missing).toMatchObject({ isError: true, text: 'Agent session nope not found' });
    expect(sb.run(['agent', 'spawn', '--uuid', 'w', '--workdir', sb.work, '--', 'sh', '-c', 'echo busy; sleep 30']).code).toBe(0);
    const r = await call(c, 'wait', { id: 'w', until: 'text', pattern: 'never', timeoutSeconds: 0.5 });
    expect(r.s).toMatchObject({ id: 'w', status: 'timeout', next: null });
    const bad = await call(c, 'wait', { id: 'w', until: 'text' });
    expect(bad).toMatchObject({ isError: true, text: 'until "text" needs a pattern' });
  });

  it("serves each agent's screen as a resource and announces its changes to subscribers", async () => {
    const sb = sandbox();
    expect(sb.run(['agent', 'spawn', '--uuid', 'r', '--workdir', sb.work, '--', 'bash', '--norc', '--noprofile']).code).toBe(0);
    const c = await connect(sb, ['mcp', 'serve', '--allow', 'read']);
    const listed = (await c.listResources()).resources.map((x) => x.uri);
    expect(listed).toEqual(expect.arrayContaining(['agent://list', 'agent://r/screen']));
    const updates: string[] = [];
    c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
    await c.subscribeResource({ uri: 'agent://r/screen' });
    await new Promise((r) => setTimeout(r, 1500));
    sb.run(['agent', 'send', 'r', 'echo resource-changed', '--enter']);
    await waitFor(() => updates.includes('agent://r/screen'), 15_000);
    const read = await c.readResource({ uri: 'agent://r/screen' });
    expect((read.contents[0] as { text: string }).text).toContain('resource-changed');
    await expect(c.readResource({ uri: 'agent://nope/screen' })).rejects.toThrow(/not found/);
  });
});

describe('raw JSON-RPC over stdio', () => {
  it('answers initialize and tools/list, and a malformed line with a parse error, then exits at the end of its input', async () => {
    const sb = sandbox();
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'capture', arguments: { id: 42 } } },
    ].map((m) => JSON.stringify(m));
    const child = spawn(CLI, [], { env: sb.env, cwd: sb.work, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (const l of lines.slice(0, 3)) child.stdin.write(`${l}\n`);
    await waitFor(() => out.split('\n').filter(Boolean).length >= 2);
    child.stdin.write('{"jsonrpc": "2.0", "id": 9, "method": \n');
    child.stdin.write(`${lines[3]}\n`);
    await waitFor(() => out.split('\n').filter(Boolean).length >= 4);
    child.stdin.end();
    expect(await exited).toBe(0);
    const msgs = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: unknown; result?: Record<string, unknown>; error?: { code: number } });
    const byId = new Map(msgs.map((m) => [m.id, m]));
    expect(byId.get(1)!.result).toMatchObject({ protocolVersion: '2025-11-25', serverInfo: { name: 'symposium-mcp' } });
    expect((byId.get(2)!.result!.tools as unknown[]).length).toBeGreaterThan(3);
    expect(byId.get(null)!.error!.code).toBe(-32700);
    expect(byId.get(3)!.result).toMatchObject({ isError: true });
  });

  it('typed in a terminal, the bare command prints help instead (see cli-guidance); with --allow it refuses a tier it does not know', () => {
    const sb = sandbox();
    const r = sb.run(['--allow', 'everything']);
    expect(r).toMatchObject({ code: 1, stderr: 'Error: Unknown --allow "everything": use read, drive or spawn\n' });
  });
});
