/**
 * What the in-process tests of the Worker's Hono app share: a recording stand-in for the Hub's
 * Durable Object stub, one for the OAuth store's, the gateway app with its variables, and readers
 * of the two error shapes.
 */
import { expect } from 'vitest';
import type { ErrorCode } from '../shared/errors.ts';
import { createApp, type AppOptions } from './app.ts';
import type { HubResult, WireError } from './hub/rpc.ts';

export const HOST_TOKEN = 'host-token-0123456789';
export const LIMITED_TOKEN = 'limited-token-0123456789';
export const CLIENT_TOKEN = 'client-token-0123456789';
export const BASE = 'http://gw.test';

export type Call = { method: string; args: unknown[] };

/** Answers every Hub method the Worker may call, recording the calls; `fail` makes them fail. */
export class HubDouble {
  readonly calls: Call[] = [];
  fail: WireError | undefined;
  toolResult = '{"content":[{"type":"text","text":"Echo: hi"}],"isError":false}';

  #answer<T>(method: string, args: unknown[], value: T): Promise<HubResult<T>> {
    this.calls.push({ method, args });
    return Promise.resolve(this.fail ? { ok: false, error: this.fail } : { ok: true, value });
  }

  callTool(...args: unknown[]) {
    return this.#answer('callTool', args, this.toolResult);
  }
  serverRequest(...args: unknown[]) {
    return this.#answer('serverRequest', args, { resources: [] });
  }
  createRestSession(...args: unknown[]) {
    return this.#answer('createRestSession', args, 'rest-session-1');
  }
  tools(...args: unknown[]) {
    return this.#answer('tools', args, []);
  }
  mcpPost(...args: unknown[]) {
    return this.#answer('mcpPost', args, new Response('{"jsonrpc":"2.0","id":1,"result":{}}', { headers: { 'content-type': 'application/json' } }));
  }
  mcpStream(...args: unknown[]) {
    return this.#answer('mcpStream', args, new Response('', { headers: { 'content-type': 'text/event-stream' } }));
  }
  mcpDelete(...args: unknown[]) {
    return this.#answer('mcpDelete', args, new Response(null, { status: 200 }));
  }
  sseOpen(...args: unknown[]) {
    return this.#answer('sseOpen', args, new Response('', { headers: { 'content-type': 'text/event-stream' } }));
  }
  ssePost(...args: unknown[]) {
    return this.#answer('ssePost', args, new Response('Accepted', { status: 202 }));
  }
  catalog() {
    this.calls.push({ method: 'catalog', args: [] });
    return Promise.resolve([]);
  }
  health() {
    this.calls.push({ method: 'health', args: [] });
    return Promise.resolve({ status: 'ok', hosts: [], servers: [] });
  }
  status(...args: unknown[]) {
    this.calls.push({ method: 'status', args });
    return Promise.resolve({ hosts: [] });
  }
  endSession(...args: unknown[]) {
    return this.#answer('endSession', args, null);
  }
  fetch(request: Request) {
    this.calls.push({ method: 'fetch', args: [request.url] });
    return Promise.resolve(new Response('upgraded'));
  }
}

export function gateway(vars: Record<string, string> = {}, options: AppOptions = {}) {
  const hub = new HubDouble();
  const env = {
    HUB: { idFromName: (name: string) => name, get: () => hub },
    ALLOWED_HOSTS: 'gw.test',
    MAX_BODY_BYTES: '2048',
    HOST_TOKENS: JSON.stringify([{ token: HOST_TOKEN }, { token: LIMITED_TOKEN, servers: ['a', 'b'] }]),
    // Without CLIENT_AUTH the API is closed unless opened on purpose.
    OPEN_API: '1',
    ...vars,
  };
  const app = createApp(options);
  const request = (path: string, init: RequestInit = {}) => app.request(`${BASE}${path}`, init, env as never);
  return { hub, request, env };
}

export const EVIL = { origin: 'https://evil.example' };
export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
export const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });

export async function restError(res: Response): Promise<{ status: number; code: ErrorCode; message: string }> {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: { code: ErrorCode; message: string } };
  return { status: res.status, code: body.error.code, message: body.error.message };
}

export async function jsonRpcError(res: Response): Promise<{ status: number; code: ErrorCode; rpcCode: number }> {
  const body = (await res.json()) as { jsonrpc: string; error: { code: number; data: { code: ErrorCode } } };
  expect(body.jsonrpc).toBe('2.0');
  return { status: res.status, code: body.error.data.code, rpcCode: body.error.code };
}

/** The OAuth store's Durable Object, as a Map (expiry is tested with the real store in edge/oauth/). */
export class OAuthStoreDouble {
  readonly data = new Map<string, { value: string; metadata?: unknown }>();
  kvGet(key: string) {
    return Promise.resolve(this.data.get(key)?.value ?? null);
  }
  kvPut(key: string, value: string, options?: { metadata?: unknown }) {
    this.data.set(key, { value, metadata: options?.metadata });
    return Promise.resolve();
  }
  kvDelete(key: string) {
    this.data.delete(key);
    return Promise.resolve();
  }
  kvList(options?: { prefix?: string }) {
    const keys = [...this.data.keys()].filter((k) => k.startsWith(options?.prefix ?? '')).sort().map((name) => ({ name, metadata: this.data.get(name)!.metadata }));
    return Promise.resolve({ keys, list_complete: true });
  }
}
