/**
 * The floor benchmark in its smallest form (`bench/floor/run.ts` with a few calls a row): it
 * starts the bare Worker and Durable Object and the gateway (with a bearer token), makes calls on
 * every kind of row, prints the table, and leaves nothing running. No timing is asserted.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { killLeftovers, processesWithMarker, runScript, waitUntil } from './harness.ts';

const marker = randomUUID();

afterAll(() => {
  killLeftovers(marker);
});

it('measures the floor, its variants and the gateway side by side, every call answered', async () => {
  const rows = ['direct', 'rpc/nows', 'rpc', 'fetch', 'rpc/plainws', 'rpc/json+timer+sql+stubs+headers+hono+digest', 'gateway'];
  const { code, out } = await runScript('bench/floor/run.ts', ['--calls', '20', '--rounds', '1', '--auth', '--rows', rows.join(',')], marker);
  expect(code, out).toBe(0);
  for (const row of rows) expect(out, out).toMatch(new RegExp(`^\\| ${row.replaceAll('+', '\\+').replaceAll('/', '\\/')} +\\| mean +\\| +20 \\|.*\\| +0 \\|$`, 'm'));
  await waitUntil(() => (processesWithMarker(marker).length === 0 ? true : undefined), 10_000, 'every process the benchmark started to exit');
}, 90_000);
