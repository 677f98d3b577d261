/**
 * The benchmark in its smallest form (`npm run bench -- --smoke`, with one of the peers): it
 * starts the gateway, the architecture floor, the peer and the direct server, runs every measure
 * once against each, prints its tables, and leaves nothing running. No timing is asserted:
 * timings belong to `npm run bench`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { killLeftovers, processesWithMarker, runScript, waitUntil } from './harness.ts';

const marker = randomUUID();

afterAll(() => {
  killLeftovers(marker);
});

it('runs every target side by side and reports each measure, its ratios and the targets', async () => {
  const { code, out } = await runScript('bench/compare.ts', ['--smoke', '--only', 'gateway,direct,mcp-proxy streamable,floor'], marker, { BENCH_TIMEOUT_S: '150' });
  expect(code, out).toBe(0);
  // The gateway's three transports, direct stdio, the architecture floor's three, and one peer (all of them: `npm run bench`).
  const targets = ['direct stdio', 'mcp-proxy Streamable', 'architecture floor REST', 'architecture floor Streamable', 'architecture floor HTTP+SSE', 'gateway REST', 'gateway Streamable', 'gateway HTTP+SSE'];
  for (const target of targets) {
    expect(out).toMatch(new RegExp(`^\\| ${target.replace('+', '\\+')} +\\| +\\d`, 'm'));
  }
  expect(out).toContain('targets (ratios within this run), and the architecture floor against the same limits');
  // Each target's check carries the floor's own figure for the same measure and its verdict.
  expect(out).toMatch(/workerd CPU per sequential call, gateway REST \(ms\) +\| +\d[^\n]*\| REST +\| +\d[\d.]* \| (met|MISSED) /);
  expect(out).toMatch(/gateway Streamable p50 <= 0.8x best of Streamable peers \(ms\)[^\n]*\| Streamable +\| +\d/);
  expect(out).toContain('every call through the gateway, the architecture floor and directly answered with the expected echo');
  // No call through the gateway, the floor or directly failed: those rows' last cell (errors) is 0.
  for (const target of targets.filter((t) => !t.startsWith('mcp-proxy'))) expect(out).toMatch(new RegExp(`^\\| ${target.replace('+', '\\+')} +\\|.*\\| +0 \\|$`, 'm'));
  await waitUntil(() => (processesWithMarker(marker).length === 0 ? true : undefined), 10_000, 'every process the benchmark started to exit');
}, 180_000);
