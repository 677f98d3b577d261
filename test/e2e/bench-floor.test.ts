/**
 * The floor benchmark in its smallest form (`bench/floor/run.ts` with a few calls a row): it
 * starts the bare Worker and Durable Object and the gateway (with a bearer token), makes calls on
 * every kind of row, prints the table, and leaves nothing running. No timing is asserted.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { killLeftovers, MARKER_VAR, processesWithMarker, ROOT, waitUntil } from './harness.ts';

const marker = randomUUID();

afterAll(() => {
  killLeftovers(marker);
});

it('measures the floor, its variants and the gateway side by side, every call answered', async () => {
  const rows = ['direct', 'rpc/nows', 'rpc', 'fetch', 'rpc/plainws', 'rpc/json+timer+sql+stubs+headers+hono+digest', 'gateway'];
  const child = spawn(process.execPath, [path.join(ROOT, 'bench/floor/run.ts'), '--calls', '20', '--rounds', '1', '--auth', '--rows', rows.join(',')], {
    cwd: ROOT,
    env: { ...process.env, [MARKER_VAR]: marker },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, out).toBe(0);
  for (const row of rows) expect(out, out).toMatch(new RegExp(`^\\| ${row.replaceAll('+', '\\+').replaceAll('/', '\\/')} +\\| mean +\\| +20 \\|.*\\| +0 \\|$`, 'm'));
  await waitUntil(() => (processesWithMarker(marker).length === 0 ? true : undefined), 10_000, 'every process the benchmark started to exit');
}, 90_000);
