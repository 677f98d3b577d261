/**
 * The MCP conformance suite, server mode (`npm run conformance`): against server-everything served
 * directly and through the gateway, where the gateway may fail no check the server passes directly
 * and must pass the DNS-rebinding check; and against the conformance twin
 * (test/fixtures/conformance-server.mjs) through the gateway, where every scenario must pass but
 * those listed in scripts/conformance-expected-failures.yaml.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from './harness.ts';

const run = promisify(execFile);

it('passes the conformance suite through the gateway: the twin fully, server-everything as directly', { timeout: 600_000 }, async () => {
  const result = await run(process.execPath, [path.join(ROOT, 'scripts/conformance.ts')], { cwd: ROOT, timeout: 540_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ ...err, failed: true }),
  );
  expect('failed' in result ? `${result.stdout}\n${result.stderr}` : '').toBe('');
  expect(result.stdout).toMatch(/checks that pass directly but fail through the gateway: none/);
  expect(result.stdout).toMatch(/localhost-host-rebinding-rejected`\): SUCCESS/);
  expect(result.stdout).toMatch(/twin scenarios that fail through the gateway, other than the expected failures: none/);
  expect(result.stdout).toMatch(/expected failures that now pass \(stale\): none/);
});
