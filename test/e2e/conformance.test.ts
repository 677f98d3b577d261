/**
 * The MCP conformance suite, server mode, against the gateway and against server-everything
 * served directly (`npm run conformance`): the gateway may fail no check the server passes
 * directly, and must pass the DNS-rebinding check.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from './harness.ts';

const run = promisify(execFile);

it('passes every check through the gateway that server-everything passes directly', { timeout: 600_000 }, async () => {
  const result = await run(process.execPath, [path.join(ROOT, 'scripts/conformance.ts')], { cwd: ROOT, timeout: 540_000, maxBuffer: 16 * 1024 * 1024 }).catch(
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ ...err, failed: true }),
  );
  expect('failed' in result ? `${result.stdout}\n${result.stderr}` : '').toBe('');
  expect(result.stdout).toMatch(/checks that pass directly but fail through the gateway: none/);
  expect(result.stdout).toMatch(/localhost-host-rebinding-rejected`\): SUCCESS/);
});
