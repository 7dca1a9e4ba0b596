import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { Mcp } from './limits';

// The MCP stdio transport: one JSON-RPC message per line. Where the SDK's own stdio
// transport falls short for a server that lives as long as its client (measured): it
// answers an unparsable line with -32700 and an invalid message with -32600 (the SDK's
// sends nothing, so the client waits for its timeout); it skips an over-long line with an
// error instead of closing the connection; it closes on stdin's end (the SDK's ignores it,
// and the server lingered); it splits lines in linear time (the SDK's re-joins its whole
// buffer per chunk: a 9 MB line took 6.6 s).

export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** Inside an over-long line: drop bytes until the next newline. */
  private skipping = false;
  private closed = false;

  constructor(
    private readonly input: NodeJS.ReadableStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stdout,
    private readonly maxLineBytes: number = Mcp.MaxLineBytes,
  ) {}

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('error', this.onErr);
    this.output.on('error', this.onErr); // EPIPE: the client went away
  }

  private readonly onErr = (e: Error): void => {
    this.onerror?.(e);
    void this.close();
  };

  private readonly onEnd = (): void => {
    void this.close();
  };

  private readonly onData = (chunk: Buffer | string): void => {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10)) {
      const head = buf.subarray(0, nl);
      buf = buf.subarray(nl + 1);
      if (this.skipping) {
        this.skipping = false;
        this.parts = [];
        this.partsLen = 0;
        continue;
      }
      const line = this.partsLen ? Buffer.concat([...this.parts, head]) : head;
      this.parts = [];
      this.partsLen = 0;
      this.handleLine(line.toString('utf8').replace(/\r$/, ''));
    }
    if (buf.length === 0 || this.skipping) return;
    this.parts.push(buf);
    this.partsLen += buf.length;
    if (this.partsLen > this.maxLineBytes) {
      this.parts = [];
      this.partsLen = 0;
      this.skipping = true;
      this.reply(null, -32600, `Message larger than ${this.maxLineBytes} bytes; discarded`);
    }
  };

  private handleLine(line: string): void {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      this.onerror?.(e as Error);
      this.reply(null, -32700, 'Parse error: each line must be one JSON-RPC message');
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const obj = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
      const id = obj && (typeof obj.id === 'string' || typeof obj.id === 'number') ? obj.id : null;
      if (Array.isArray(raw)) this.reply(null, -32600, 'Invalid Request: JSON-RPC batches are not supported by MCP');
      // A malformed notification gets no answer, as JSON-RPC requires.
      else if (!(obj && 'method' in obj && !('id' in obj))) this.reply(id, -32600, 'Invalid Request: not a valid JSON-RPC 2.0 message');
      this.onerror?.(new Error(`invalid JSON-RPC message: ${line.slice(0, 200)}`));
      return;
    }
    this.onmessage?.(parsed.data);
  }

  private reply(id: string | number | null, code: number, message: string): void {
    if (this.closed) return;
    this.output.write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      if (this.output.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.output.once('drain', () => resolve());
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.onclose?.();
  }
}
