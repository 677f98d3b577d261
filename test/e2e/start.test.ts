/**
 * `npm start` as a user runs it: one command, edge and host together, URLs printed when ready,
 * Ctrl-C stops everything it started.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, expect, it } from 'vitest';
import { ROOT, EVERYTHING, GatewayProcess, killLeftovers, newSession, postJson, processesWithMarker, tempDir, waitUntil, writeConfig } from './harness.ts';

const marker = randomUUID();
const commandName = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};
let gateway: GatewayProcess | undefined;

afterAll(async () => {
  await gateway?.kill('SIGKILL');
  killLeftovers(marker);
});

it('starts edge and host with one command, serves a call, and leaves nothing behind on Ctrl-C', async () => {
  const configFile = writeConfig(
    tempDir(),
    `hostname: "127.0.0.1"
port: 0
servers:
  everything:
    command: ${EVERYTHING}
    args: ["stdio"]
`,
  );
  gateway = new GatewayProcess(['start'], marker, { CONFIG_PATH: configFile });
  const ready = await gateway.waitForOutput(/MCP gateway ready at (http:\/\/\S+)/);
  const base = ready[1]!;
  expect(gateway.stdout).toContain(`POST ${base}/api/everything/{tool}`);
  expect(gateway.stdout).toContain(`${base}/everything/mcp`);

  const session = await newSession(base);
  const res = await postJson(`${base}/api/everything/echo?sessionId=${session}`, { message: 'hi' });
  expect(res.status).toBe(200);
  expect(res.body.content[0].text).toBe('Echo: hi');
  expect(processesWithMarker(marker).length).toBeGreaterThan(2); // gateway, workerd, the server
  // The bundler's service process is not left running once the edge is bundled.
  expect(processesWithMarker(marker).map(commandName)).not.toContain('esbuild');

  process.kill(gateway.pid, 'SIGINT');
  expect(await gateway.exited).toEqual({ code: 0, signal: null });
  await waitUntil(() => (processesWithMarker(marker).length === 0 ? true : undefined), 10_000, 'every started process to exit');
});

it('explains a config mistake in one message with the line, without a stack trace', async () => {
  const configFile = writeConfig(tempDir(), `port: 0\nservers:\n  everything:\n    comand: node\n`);
  const bad = new GatewayProcess(['start', '--config', configFile], marker);
  const { code } = await bad.exited;
  expect(code).toBe(1);
  expect(bad.stderr).toMatch(/config\.yaml:4: servers\.everything\.comand: unknown key "comand"/);
  expect(bad.stderr).not.toMatch(/\n\s+at /);
});

it('prints the OpenAPI document with `npm start -- --schemaDump [--schemaFormat json]`, as the original did', async () => {
  const configFile = writeConfig(tempDir(), `servers:\n  everything:\n    command: ${EVERYTHING}\n    args: ["stdio"]\n`);
  const run = promisify(execFile);
  const env = { ...process.env, CONFIG_PATH: configFile, MCP_GATEWAY_TEST_RUN: marker };
  // npm prints its own two-line banner first; the document is what follows it.
  const json = await run('npm', ['start', '--', '--schemaDump', '--schemaFormat', 'json'], { cwd: ROOT, env, timeout: 60_000 });
  const doc = JSON.parse(json.stdout.slice(json.stdout.indexOf('\n{') + 1));
  expect(doc.openapi).toMatch(/^3\.1/);
  expect(Object.keys(doc.paths)).toContain('/api/everything/echo');
  const yaml = await run('npm', ['start', '--', '--schemaDump'], { cwd: ROOT, env, timeout: 60_000 });
  const fromYaml = parse(yaml.stdout.slice(yaml.stdout.indexOf('\nopenapi:') + 1));
  expect(fromYaml.paths['/api/everything/echo']).toEqual(doc.paths['/api/everything/echo']);
});
