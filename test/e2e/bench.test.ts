/**
 * The benchmark in its smallest form (`npm run bench -- --smoke`, with one of the peers): it
 * starts the gateway, the peer and the direct server, runs every measure once against each, prints its tables, and
 * leaves nothing running. No timing is asserted: timings belong to `npm run bench`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { killLeftovers, processesWithMarker, runScript, waitUntil } from './harness.ts';

const marker = randomUUID();

afterAll(() => {
  killLeftovers(marker);
});

it('runs every target side by side and reports each measure, its ratios and the targets', async () => {
  const { code, out } = await runScript('bench/compare.ts', ['--smoke', '--only', 'gateway,direct,mcp-proxy streamable'], marker, { BENCH_TIMEOUT_S: '150' });
  expect(code, out).toBe(0);
  // The gateway's three transports, the floor, and one peer (all of them: `npm run bench`).
  for (const target of ['direct stdio', 'mcp-proxy Streamable', 'gateway REST', 'gateway Streamable', 'gateway HTTP+SSE']) {
    expect(out).toMatch(new RegExp(`^\\| ${target.replace('+', '\\+')} +\\| +\\d`, 'm'));
  }
  expect(out).toContain('targets (ratios within this run)');
  expect(out).toMatch(/workerd CPU per sequential call, gateway REST \(ms\) +\| +\d/);
  expect(out).toContain('every call through the gateway and directly answered with the expected echo');
  await waitUntil(() => (processesWithMarker(marker).length === 0 ? true : undefined), 10_000, 'every process the benchmark started to exit');
}, 180_000);
