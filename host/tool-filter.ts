/**
 * A server's `tools: { allow: [...] }` or `tools: { deny: [...] }`: which of its tools the host
 * announces and lets through. `*` in a name matches any run of characters.
 */
import type { ServerConfig } from '../shared/config.ts';
import type { Tool } from '../shared/protocol.ts';
import type { JsonRpcMessage } from './instance.ts';

export type ToolFilter = ServerConfig['tools'];

function matcher(patterns: string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const wild = patterns
    .filter((p) => p.includes('*'))
    .map((p) => new RegExp(`^${p.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  return (name) => exact.has(name) || wild.some((re) => re.test(name));
}

/** Whether the filter lets the tool named `name` through (no filter: every tool). */
export function toolAllowed(filter: ToolFilter, name: string): boolean {
  if (!filter) return true;
  if (filter.allow) return matcher(filter.allow)(name);
  return !matcher(filter.deny ?? [])(name);
}

/** The tools the filter lets through. */
export function filterTools<T extends Pick<Tool, 'name'>>(filter: ToolFilter, tools: T[]): T[] {
  if (!filter) return tools;
  return tools.filter((tool) => toolAllowed(filter, tool.name));
}

/** `allow` entries that match none of the server's tools: most likely typos. */
export function unmatchedAllows(filter: ToolFilter, tools: Pick<Tool, 'name'>[]): string[] {
  if (!filter?.allow) return [];
  return filter.allow.filter((pattern) => !tools.some((tool) => matcher([pattern])(tool.name)));
}

/** The name of the tool a `tools/call` request calls, if `message` is one. */
function calledTool(message: { method?: string; params?: unknown }): string | undefined {
  if (message.method !== 'tools/call') return undefined;
  const name = (message.params as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** The name of a filtered-out tool that `method`/`params` would call, if any. */
export function refusedTool(filter: ToolFilter, method: string, params: unknown): string | undefined {
  const name = calledTool({ method, params });
  return name !== undefined && !toolAllowed(filter, name) ? name : undefined;
}

/**
 * An MCP client's message on its way to the server: the JSON-RPC error to answer instead, when it
 * calls a filtered-out tool (as MCP servers answer an unknown tool: -32602).
 */
export function refusal(filter: ToolFilter, message: JsonRpcMessage): JsonRpcMessage | undefined {
  if (message.id === undefined || message.id === null) return undefined;
  const name = refusedTool(filter, message.method ?? '', message.params);
  if (name === undefined) return undefined;
  return { jsonrpc: '2.0', id: message.id, error: { code: -32602, message: `Unknown tool: ${name}` } };
}

/**
 * A server's message on its way to an MCP client: a `tools/list` result (a response whose result
 * has a `tools` list) loses the filtered-out tools; anything else passes unchanged.
 */
export function filterServerMessage(filter: ToolFilter, message: JsonRpcMessage): JsonRpcMessage {
  if (!filter) return message;
  const result = message.result as { tools?: unknown } | undefined;
  if (!result || typeof result !== 'object' || !Array.isArray(result.tools)) return message;
  const tools = (result.tools as unknown[]).filter((tool) => {
    const name = (tool as { name?: unknown } | null)?.name;
    return typeof name !== 'string' || toolAllowed(filter, name);
  });
  return { ...message, result: { ...result, tools } };
}
