import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../shared/errors.ts';
import { Instance, RpcError, type InstanceOptions } from './instance.ts';
import { Logger } from './logger.ts';
import type { StartError } from './start-failure.ts';

const FIXTURE = path.resolve(import.meta.dirname, '..', 'test', 'fixtures', 'test-server.mjs');
const CALL_TIMEOUT_MS = 15_000;

/** Every process group a test started, killed in afterEach/afterAll whatever happened. */
const started = new Set<number>();
const running: Instance[] = [];

/** True while `pid` runs. A zombie (exited, not yet reaped by whoever inherited it) counts as ended. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function startServer(overrides: Partial<InstanceOptions> = {}): Promise<Instance> {
  const instance = await Instance.start({
    server: 'test',
    session: 'session-0123456789',
    config: { command: process.execPath, args: [FIXTURE], env: {} },
    baseDir: path.dirname(FIXTURE),
    logger: new Logger('error', { color: false }),
    initializeTimeoutMs: 20_000,
    ...overrides,
  });
  if (instance.pid !== undefined) started.add(instance.pid);
  running.push(instance);
  return instance;
}

function callTool(instance: Instance, name: string, args: Record<string, unknown> = {}, timeoutMs = CALL_TIMEOUT_MS): Promise<unknown> {
  return instance.request('tools/call', { name, arguments: args }, timeoutMs).done;
}

interface ToolResult {
  content: { type: string; text: string }[];
  isError?: boolean;
}

function textOf(result: unknown): string {
  return (result as ToolResult).content.map((c) => c.text).join('');
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error as Error;
}

async function waitForExit(pid: number): Promise<void> {
  await vi.waitFor(
    () => {
      if (isAlive(pid)) throw new Error(`process ${pid} is still running`);
    },
    { timeout: 10_000, interval: 20 },
  );
}

afterEach(async () => {
  for (const instance of running.splice(0)) instance.stop();
  for (const pid of [...started]) {
    await waitForExit(pid).catch(() => killGroup(pid));
    started.delete(pid); // never signal a pid again once it is gone: it may be reused
  }
});

afterAll(() => {
  for (const pid of started) killGroup(pid);
});

describe('Instance', () => {
  it('starts a real MCP server, initializes it, and relays a tool call', async () => {
    const instance = await startServer();
    expect(instance.pid).toBeGreaterThan(0);
    expect(instance.exited).toBe(false);
    const result = await callTool(instance, 'pid');
    expect(textOf(result)).toBe(String(instance.pid));
  });

  it('a tool that reports an error comes back as a result with isError true', async () => {
    const instance = await startServer();
    const result = (await callTool(instance, 'fail')) as ToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('this tool always fails');
    // The server is still fine afterwards.
    expect(textOf(await callTool(instance, 'sleep', { ms: 0 }))).toBe('slept 0');
  });

  it('a JSON-RPC error from the server rejects with RpcError carrying its code', async () => {
    const instance = await startServer();
    const error = await rejection(instance.request('no/such/method', {}, CALL_TIMEOUT_MS).done);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(-32601);
  });

  it('a crash rejects the call in flight with SERVER_EXITED, and later calls at once', async () => {
    const exits: string[] = [];
    const instance = await startServer({ onExit: (reason) => exits.push(reason) });
    const error = await rejection(callTool(instance, 'crash'));
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('SERVER_EXITED');
    expect(error.message).toContain('exited with code 3');
    expect(instance.exited).toBe(true);
    expect(instance.inFlight).toBe(0);
    expect(exits).toEqual(['exited with code 3']);

    const after = await rejection(callTool(instance, 'pid'));
    expect((after as GatewayError).code).toBe('SERVER_EXITED');
  });

  it('a crash rejects every call in flight, not just the one that caused it', async () => {
    const instance = await startServer();
    const sleepers = [callTool(instance, 'sleep', { ms: 30_000 }), callTool(instance, 'sleep', { ms: 30_000 })].map(rejection);
    await vi.waitFor(() => expect(instance.inFlight).toBe(2));
    const crash = rejection(callTool(instance, 'crash'));
    for (const error of await Promise.all([...sleepers, crash])) {
      expect((error as GatewayError).code).toBe('SERVER_EXITED');
    }
  });

  it('a command that does not exist rejects start with SPAWN_FAILED', async () => {
    const error = await rejection(
      startServer({ config: { command: 'mcp-gateway-test-no-such-command', args: [], env: {} } }),
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('SPAWN_FAILED');
    expect((error as StartError).why).toBe('not-found');
    expect(error.message).toContain('mcp-gateway-test-no-such-command');
  });

  it('a command that is not executable rejects start with the cause not-executable', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mcp-gateway-test-')), 'server.sh');
    writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    const error = await rejection(startServer({ config: { command: file, args: [], env: {} } }));
    expect((error as GatewayError).code).toBe('SPAWN_FAILED');
    expect((error as StartError).why).toBe('not-executable');
  });

  it('a missing relative command (resolved against baseDir) rejects start with SPAWN_FAILED', async () => {
    const error = await rejection(startServer({ config: { command: './bin/not-here', args: [], env: {} } }));
    expect((error as GatewayError).code).toBe('SPAWN_FAILED');
  });

  it('a server that exits before initializing rejects start with SPAWN_FAILED and shows its stderr', async () => {
    const error = await rejection(
      startServer({
        config: { command: process.execPath, args: ['-e', 'console.error("config file missing"); process.exit(2)'], env: {} },
      }),
    );
    expect((error as GatewayError).code).toBe('SPAWN_FAILED');
    expect((error as StartError).why).toBe('exited');
    expect(error.message).toContain('config file missing');
  });

  it('passes env and path (working directory) to the server', async () => {
    // A minimal line-based server that answers every request with its cwd and one env variable.
    const script = [
      "require('readline').createInterface({ input: process.stdin }).on('line', (line) => {",
      '  const m = JSON.parse(line);',
      "  if (m.id !== undefined) process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { cwd: process.cwd(), v: process.env.GW_TEST_VAR } }) + '\\n');",
      '});',
    ].join('\n');
    const instance = await startServer({
      config: { command: process.execPath, args: ['-e', script], env: { GW_TEST_VAR: 'hello-env' }, path: '..' },
    });
    const answer = (await instance.request('whoami', {}, CALL_TIMEOUT_MS).done) as { cwd: string; v: string };
    expect(realpathSync(answer.cwd)).toBe(realpathSync(path.resolve(path.dirname(FIXTURE), '..')));
    expect(answer.v).toBe('hello-env');
  });

  it('stop() ends the server process', async () => {
    const exits: string[] = [];
    const instance = await startServer({ onExit: (reason) => exits.push(reason) });
    const pid = instance.pid!;
    expect(isAlive(pid)).toBe(true);

    const inFlight = rejection(callTool(instance, 'sleep', { ms: 30_000 }));
    await vi.waitFor(() => expect(instance.inFlight).toBe(1));
    instance.stop();
    await waitForExit(pid);
    expect(((await inFlight) as GatewayError).code).toBe('SERVER_EXITED');
    await vi.waitFor(() => expect(exits).toHaveLength(1));
    expect(exits[0]).toMatch(/killed by SIGTERM|exited/);
  });

  it('stop() also ends processes the server started (its whole process group)', async () => {
    // A server that starts a long-lived helper and reports the helper's pid to any request.
    const script = [
      "const { spawn } = require('child_process');",
      "const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
      "require('readline').createInterface({ input: process.stdin }).on('line', (line) => {",
      '  const m = JSON.parse(line);',
      "  if (m.id !== undefined) process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { helper: helper.pid } }) + '\\n');",
      '});',
    ].join('\n');
    const instance = await startServer({ config: { command: process.execPath, args: ['-e', script], env: {} } });
    const { helper } = (await instance.request('helper', {}, CALL_TIMEOUT_MS).done) as { helper: number };
    try {
      expect(isAlive(helper)).toBe(true);
      instance.stop();
      await waitForExit(instance.pid!);
      await waitForExit(helper);
    } finally {
      if (isAlive(helper)) process.kill(helper, 'SIGKILL');
    }
  });

  it('a call past its deadline is REQUEST_TIMEOUT and the server keeps serving', async () => {
    const instance = await startServer();
    const error = await rejection(callTool(instance, 'sleep', { ms: 20_000 }, 100));
    expect((error as GatewayError).code).toBe('REQUEST_TIMEOUT');
    expect(instance.inFlight).toBe(0);
    expect(textOf(await callTool(instance, 'sleep', { ms: 1 }))).toBe('slept 1');
  });

  it('cancel() rejects the call and the server keeps serving', async () => {
    const instance = await startServer();
    const { id, done } = instance.request('tools/call', { name: 'sleep', arguments: { ms: 20_000 } }, CALL_TIMEOUT_MS);
    instance.cancel(id, 'client went away');
    expect(((await rejection(done)) as GatewayError).message).toContain('client went away');
    expect(textOf(await callTool(instance, 'pid'))).toBe(String(instance.pid));
  });

  it('returns a large (2 MiB) result intact', async () => {
    const instance = await startServer();
    const bytes = 2 * 1024 * 1024;
    const text = textOf(await callTool(instance, 'big', { bytes, fill: 'k' }));
    expect(text.length).toBe(bytes);
    expect(text).toBe('k'.repeat(bytes));
  });

  it('returns a large result past ASCII intact, its characters split between reads of the pipe', async () => {
    const instance = await startServer();
    const chars = 300_001;
    for (const fill of ['é', '€', '\u{1F600}'.slice(0, 1)]) {
      const text = textOf(await callTool(instance, 'big', { bytes: chars, fill }));
      expect(text.length).toBe(chars);
      expect(text === fill.repeat(chars)).toBe(true);
    }
  });

  it('drops an over-long output line and keeps reading the lines after it', async () => {
    const instance = await startServer({ maxLineBytes: 10_000 });
    const error = await rejection(callTool(instance, 'big', { bytes: 200_000 }, 1500));
    expect((error as GatewayError).code).toBe('REQUEST_TIMEOUT');
    expect(textOf(await callTool(instance, 'big', { bytes: 100 }))).toBe('x'.repeat(100));
  });

  it('50 concurrent sleep calls with distinct durations each get their own answer', async () => {
    const instance = await startServer();
    // Shorter sleeps later, so answers come back in a different order than the calls went out.
    const durations = Array.from({ length: 50 }, (_, i) => 5 + ((i * 37) % 50) * 4);
    expect(new Set(durations).size).toBe(50);
    const results = await Promise.all(durations.map((ms) => callTool(instance, 'sleep', { ms })));
    expect(results.map(textOf)).toEqual(durations.map((ms) => `slept ${ms}`));
    expect(instance.inFlight).toBe(0);
  });
});
