/**
 * The clients of the comparison: the MCP SDK's own client over stdio, Streamable HTTP and
 * HTTP+SSE for every MCP target, and `fetch` (the HTTP stack the SDK's transports use) for the
 * gateway's REST API. Each one checks every answer: exactly `Echo: <message>`, not an error.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export type Transport = 'stdio' | 'rest' | 'streamable' | 'sse';

/** One client session: echo calls on it, and its end (disconnect, or DELETE for Streamable HTTP). */
export interface EchoSession {
  echo(message: string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export type Endpoint =
  | { transport: 'stdio'; command: string; args: string[]; env: Record<string, string> }
  | { transport: 'rest'; base: string }
  | { transport: 'streamable' | 'sse'; url: string };

const CLIENT_INFO = { name: 'mcp-gateway-bench', version: '0.1.0' };

function checkEcho(message: string, result: { content?: unknown; isError?: unknown }): void {
  const content = result.content as { text?: string }[] | undefined;
  if (result.isError || content?.[0]?.text !== `Echo: ${message}`) {
    throw new Error(`wrong answer: ${JSON.stringify(result).slice(0, 160)}`);
  }
}

export async function openSession(endpoint: Endpoint, timeoutMs = 30_000): Promise<EchoSession> {
  if (endpoint.transport === 'rest') return openRest(endpoint.base);
  const client = new Client(CLIENT_INFO);
  const transport =
    endpoint.transport === 'stdio'
      ? new StdioClientTransport({ command: endpoint.command, args: endpoint.args, env: endpoint.env, stderr: 'ignore' })
      : endpoint.transport === 'streamable'
        ? new StreamableHTTPClientTransport(new URL(endpoint.url))
        : new SSEClientTransport(new URL(endpoint.url));
  await client.connect(transport, { timeout: timeoutMs });
  return {
    async echo(message, timeoutMs) {
      const result = await client.callTool({ name: 'echo', arguments: { message } }, undefined, { timeout: timeoutMs });
      checkEcho(message, result as { content?: unknown; isError?: unknown });
    },
    async close() {
      if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

async function openRest(base: string): Promise<EchoSession> {
  const res = await fetch(`${base}/api/sessionid`);
  if (res.status !== 200) throw new Error(`GET /api/sessionid: HTTP ${res.status}`);
  const { sessionId } = (await res.json()) as { sessionId: string };
  const url = `${base}/api/everything/echo?sessionId=${encodeURIComponent(sessionId)}`;
  return {
    async echo(message, timeoutMs) {
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await answer.text();
      if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${text.slice(0, 160)}`);
      checkEcho(message, JSON.parse(text) as { content?: unknown; isError?: unknown });
    },
    // A REST session has nothing to disconnect: its process is reaped after host.idleTimeoutMs.
    async close() {},
  };
}
