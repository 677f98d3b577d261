import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema, type Config } from '../shared/config.ts';
import { GatewayError } from '../shared/errors.ts';
import type { JsonRpcMessage } from './instance.ts';
import { Logger } from './logger.ts';
import { ServerSet } from './servers.ts';

const FIXTURE = path.resolve(import.meta.dirname, '..', 'test', 'fixtures', 'test-server.mjs');
const server = (extra: Record<string, unknown> = {}) => ({ command: process.execPath, args: [FIXTURE], ...extra });

function configOf(servers: Record<string, unknown>): Config {
  return ConfigSchema.parse({ servers });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sets: ServerSet[] = [];
const pids = new Set<number>();

afterEach(async () => {
  await Promise.all(sets.splice(0).map((s) => s.dispose()));
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  pids.clear();
});

function makeSet(config: Config) {
  const messages: { server: string; session: string; message: JsonRpcMessage }[] = [];
  const ended: { server: string; session: string; reason: string }[] = [];
  const set = new ServerSet({
    config,
    baseDir: path.dirname(FIXTURE),
    logger: new Logger('error', { color: false }),
    onServerMessage: (s, session, message) => messages.push({ server: s, session, message }),
    onSessionEnded: (s, session, reason) => ended.push({ server: s, session, reason }),
  });
  sets.push(set);
  return { set, messages, ended };
}

async function pidOf(set: ServerSet, name: string, session: string): Promise<number> {
  const instance = await set.get(name, session);
  pids.add(instance.pid!);
  return instance.pid!;
}

describe('ServerSet', () => {
  it('leaves out enabled: false servers', () => {
    const { set } = makeSet(configOf({ a: server(), off: server({ enabled: false }) }));
    expect(set.names).toEqual(['a']);
    expect(set.has('off')).toBe(false);
  });

  it('announces only the tools the filter lets through, and refuses REST calls to the others', async () => {
    const { set } = makeSet(configOf({ a: server({ tools: { deny: ['crash', 'wait-*'] } }), b: server({ tools: { allow: ['pid'] } }) }));
    const a = (await set.watchTools('a', () => {})).map((t) => t.name);
    expect(a).toContain('pid');
    expect(a).not.toContain('crash');
    expect(a).not.toContain('wait-for-cancel');
    expect((await set.watchTools('b', () => {})).map((t) => t.name)).toEqual(['pid']);
    let refused: unknown;
    try {
      set.checkRequest('a', 'tools/call', { name: 'crash', arguments: {} });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(GatewayError);
    expect((refused as GatewayError).code).toBe('TOOL_NOT_FOUND');
    expect(() => set.checkRequest('a', 'tools/call', { name: 'pid' })).not.toThrow();
    expect(() => set.checkRequest('a', 'resources/list', {})).not.toThrow();
  });

  it('filters an MCP session both ways: tools/list results, and calls of filtered tools answered by the host', async () => {
    const { set, messages } = makeSet(configOf({ a: server({ tools: { deny: ['crash'] } }) }));
    const send = (message: Record<string, unknown>) => set.relay('a', 's1', { jsonrpc: '2.0', ...message });
    send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    await until(() => messages.find((m) => m.message.id === 1), 'the initialize response');
    send({ method: 'notifications/initialized' });
    send({ id: 2, method: 'tools/list', params: {} });
    const list = await until(() => messages.find((m) => m.message.id === 2), 'the tools/list response');
    const names = (list.message.result as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(names).toContain('pid');
    expect(names).not.toContain('crash');

    send({ id: 3, method: 'tools/call', params: { name: 'crash', arguments: {} } });
    const refused = await until(() => messages.find((m) => m.message.id === 3), 'the refusal');
    expect(refused.message.error).toEqual({ code: -32602, message: 'Unknown tool: crash' });
    // The process never saw the call: it still answers.
    send({ id: 4, method: 'tools/call', params: { name: 'pid', arguments: {} } });
    const answer = await until(() => messages.find((m) => m.message.id === 4), 'the pid answer');
    const pid = Number((answer.message.result as { content: { text: string }[] }).content[0]!.text);
    pids.add(pid);
    expect(isAlive(pid)).toBe(true);
  });

  it('update restarts only changed servers, adds and removes, and reports changed MCP sessions ended', async () => {
    const { set, ended, messages } = makeSet(configOf({ a: server(), b: server({ env: { V: '1' } }) }));
    const a1 = await pidOf(set, 'a', 'r1');
    const b1 = await pidOf(set, 'b', 'r1');
    // An MCP session on b, which the edge must hear has ended when b restarts.
    set.relay('b', 'm1', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    await until(() => messages.find((m) => m.session === 'm1'), 'the MCP session to start');

    const changes = await set.update(configOf({ a: server(), b: server({ env: { V: '2' } }), c: server() }));
    expect(changes).toEqual({ added: ['c'], removed: [], changed: ['b'] });
    expect(set.names).toEqual(['a', 'b', 'c']);
    expect(ended).toEqual([{ server: 'b', session: 'm1', reason: 'server b was reconfigured' }]);
    expect(await pidOf(set, 'a', 'r1')).toBe(a1);
    await until(() => (isAlive(b1) ? undefined : true), 'the old b process to stop');
    const b2 = await pidOf(set, 'b', 'r1');
    expect(b2).not.toBe(b1);
    await pidOf(set, 'c', 'r1');

    const next = await set.update(configOf({ a: server({ enabled: false }), b: server({ env: { V: '2' } }) }));
    expect(next).toEqual({ added: [], removed: ['a', 'c'], changed: [] });
    expect(set.names).toEqual(['b']);
    await until(() => (isAlive(a1) ? undefined : true), 'the removed a process to stop');
    expect(await pidOf(set, 'b', 'r1')).toBe(b2);
  });
});
