/**
 * The benchmark's architecture floor (bench/floor/), as `npm run bench` drives it: its relay, its
 * workerd and a real server-everything, spoken to by the same clients as every other target. The
 * floor's answers must be right for its figures to mean anything: every session shares one
 * server, and the MCP SDK numbers each client's requests from 0, so the same ids arrive from
 * several clients at once and each answer must still reach its own caller. No timing is asserted.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openSession, type EchoSession } from '../../bench/clients.ts';
import { startFloorTarget, type FloorTarget } from '../../bench/floor/target.ts';
import { EVERYTHING, killLeftovers, MARKER_VAR, processesWithMarker, ROOT, waitUntil } from './harness.ts';

const marker = randomUUID();
let floor: FloorTarget | undefined;
const sessions: EchoSession[] = [];

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close().catch(() => {})));
  await floor?.stop();
  killLeftovers(marker);
});

it('answers every call over REST, Streamable HTTP and HTTP+SSE, each to its own caller, large ones too', async () => {
  const env = { ...process.env, [MARKER_VAR]: marker, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  floor = await startFloorTarget(ROOT, [EVERYTHING, 'stdio'], env);
  const open = async (...args: Parameters<typeof openSession>) => {
    const s = await openSession(...args);
    sessions.push(s);
    return s;
  };
  const streamable = await open({ transport: 'streamable', url: `${floor.url}/mcp` });
  const streamable2 = await open({ transport: 'streamable', url: `${floor.url}/mcp` });
  const sse = await open({ transport: 'sse', url: `${floor.url}/sse` });
  const rest = await open({ transport: 'rest', base: floor.url });

  // Each echo checks its answer is exactly `Echo: <its message>`: a crossed answer fails it.
  const calls = [streamable, streamable2, sse, rest].flatMap((s, n) => Array.from({ length: 40 }, (_, i) => s.echo(`${n}-${i}`, 10_000)));
  await Promise.all(calls);
  const mib = 'x'.repeat(1024 * 1024);
  await Promise.all([streamable.echo(`a${mib}`, 20_000), sse.echo(`b${mib}`, 20_000), rest.echo(`c${mib}`, 20_000)]);
  await streamable.echo('5'.repeat(5 * 1024 * 1024), 30_000);

  // What it does not do, it says: no GET stream, a body that is not JSON, an unknown HTTP+SSE session.
  expect((await fetch(`${floor.url}/mcp`)).status).toBe(405);
  const bad = await fetch(`${floor.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":' });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(-32700);
  expect((await fetch(`${floor.url}/message?sessionId=${randomUUID()}`, { method: 'POST', body: '{}' })).status).toBe(404);
  // A session that ends leaves the others working.
  await sse.close();
  await streamable.echo('after', 10_000);

  await floor.stop();
  floor = undefined;
  await waitUntil(() => (processesWithMarker(marker).length === 0 ? true : undefined), 10_000, 'the relay, workerd and the server to exit');
}, 60_000);
