/**
 * OpenAPI and REST for custom GPTs, through the real edge: the live document (valid 3.1, following
 * hosts and tool changes), the CLI's schema dump, tools/resources/prompts endpoints, cutting of
 * long results, and the docs page in headless Chromium.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import { chromium } from 'playwright-core';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, MAIN, ROOT, TEST_SERVER, killLeftovers, postJson, startEdge, startHost, tempDir, waitUntil, writeConfig, STANDARD_SERVERS } from './harness.ts';

const run = promisify(execFile);
const marker = randomUUID();
const token = `host-token-${randomUUID()}`;
const processes: GatewayProcess[] = [];
let base: string;
let toolsFile: string;
let configFile: string;

beforeAll(async () => {
  const dir = tempDir();
  toolsFile = path.join(dir, 'tools.txt');
  writeFileSync(toolsFile, '');
  configFile = writeConfig(
    dir,
    `hostname: 127.0.0.1
port: 0
servers:
${STANDARD_SERVERS}    env: { TOOLS_FILE: ${toolsFile} }
  twin:
    command: ${process.execPath}
    args: [${path.join(ROOT, 'test/fixtures/conformance-server.mjs')}]
`,
  );
  const started = await startEdge(configFile, token, marker);
  base = started.base;
  processes.push(started.edge, await startHost(configFile, base, token, 'home', marker));
  // The twin lists one more tool 2 s after it starts: wait for it, so the documents compared below
  // are of the same catalog.
  await waitUntil(async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    return doc.paths['/api/twin/test_dynamic_tool'] ? true : undefined;
  }, 20_000, 'the twin\'s dynamic tool in the document');
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  killLeftovers(marker);
});

async function documentAt(url: string): Promise<any> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.json();
}

async function validate(document: unknown): Promise<void> {
  const result = await new Validator().validate(document as Parameters<Validator["validate"]>[0]);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
}

const operationIds = (doc: any): string[] => Object.values(doc.paths).flatMap((item: any) => Object.values(item).map((op: any) => op.operationId));

describe('the live OpenAPI document', () => {
  it('is valid OpenAPI 3.1 with an absolute server URL, in JSON and YAML, and per server', async () => {
    // The twin adds a tool 2 s after it starts: once it is in, the JSON and YAML fetched below describe the same moment.
    await waitUntil(async () => ((await documentAt(`${base}/openapi.json`)).paths['/api/twin/test_dynamic_tool'] ? true : undefined), 20_000, "the twin's dynamic tool");
    const doc = await documentAt(`${base}/openapi.json`);
    await validate(doc);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0].url).toBe(base);
    expect(doc.paths['/api/everything/echo'].post.operationId).toBe('everything__echo');
    const yaml = parse(await (await fetch(`${base}/openapi.yaml`)).text());
    expect(yaml).toEqual(doc);
    const one = await documentAt(`${base}/api/test/openapi.json`);
    await validate(one);
    expect(Object.keys(one.paths).every((p) => !p.startsWith('/api/everything/'))).toBe(true);
  });

  it('passes a schema with enums, oneOf, bounds and definitions through intact, definitions hoisted', async () => {
    const doc = await documentAt(`${base}/openapi.json`);
    const body = doc.paths['/api/twin/schema_showcase'].post.requestBody.content['application/json'].schema;
    expect(body.properties.mode).toEqual({ type: 'string', enum: ['fast', 'safe', 'thorough'], default: 'safe' });
    expect(body.properties.count).toEqual({ type: 'integer', minimum: 1, maximum: 10 });
    expect(body.properties.contact.oneOf[0]).toEqual({ type: 'string', format: 'email' });
    const ref = body.properties.contact.oneOf[1].$ref as string;
    expect(body.properties.home.$ref).toBe(ref);
    expect(ref).toMatch(/^#\/components\/schemas\//);
    expect(doc.components.schemas[ref.split('/').pop()!]).toEqual({
      type: 'object',
      properties: { street: { type: 'string', minLength: 1 }, zip: { type: 'string', pattern: '^[0-9]{5}$' } },
      required: ['street'],
    });
    expect(body.$schema).toBeUndefined();
  });

  it('validates for the shipped config.yaml', async () => {
    const { stdout } = await run(process.execPath, [MAIN, 'schema', '--format', 'json', '--config', path.join(ROOT, 'config.yaml')], { cwd: ROOT, timeout: 60_000 });
    const doc = JSON.parse(stdout);
    await validate(doc);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/everything/echo', '/api/filesystem/read_text_file']));
  });

  it('follows a server whose tool list changes', async () => {
    expect(operationIds(await documentAt(`${base}/openapi.json`))).not.toContain('test__dyn_tool');
    writeFileSync(toolsFile, 'dyn_tool\n');
    await waitUntil(async () => (operationIds(await documentAt(`${base}/openapi.json`)).includes('test__dyn_tool') ? true : undefined), 15_000, 'the new tool in the document');
    const res = await postJson(`${base}/api/test/dyn_tool`, {});
    expect(res.body.content[0].text).toBe('dyn_tool');
  });

  it('follows hosts joining and leaving, and keeps existing operationIds stable', async () => {
    const before = operationIds(await documentAt(`${base}/openapi.json`));
    const otherConfig = writeConfig(tempDir(), `servers:\n  second:\n    command: ${process.execPath}\n    args: [${TEST_SERVER}]\n`);
    const other = await startHost(otherConfig, base, token, 'office', marker);
    processes.push(other);
    const during = operationIds(await documentAt(`${base}/openapi.json`));
    expect(during).toContain('second__pid');
    expect(during).toEqual(expect.arrayContaining(before));
    await other.kill();
    await waitUntil(async () => (operationIds(await documentAt(`${base}/openapi.json`)).includes('second__pid') ? undefined : true), 15_000, 'the server to leave the document');
  });

  it('is what `--schemaDump` prints for the same config, without an edge', async () => {
    const { stdout: json } = await run(process.execPath, [MAIN, '--schemaDump', '--schemaFormat', 'json', '--config', configFile], { cwd: ROOT, timeout: 60_000 });
    const dumped = JSON.parse(json);
    await validate(dumped);
    const live = await documentAt(`${base}/openapi.json`);
    expect(dumped.paths['/api/everything/echo']).toEqual(live.paths['/api/everything/echo']);
    const { stdout: yaml } = await run(process.execPath, [MAIN, 'schema', '--config', configFile], { cwd: ROOT, timeout: 60_000 });
    expect(parse(yaml).paths['/api/everything/echo']).toEqual(live.paths['/api/everything/echo']);
  });
});

describe('REST beyond tools', () => {
  it('lists tools, resources and prompts, reads a resource and gets a prompt', async () => {
    const tools = await documentAt(`${base}/api/everything/tools`);
    expect(tools.tools.map((t: { name: string }) => t.name)).toContain('echo');
    const resources = await documentAt(`${base}/api/everything/resources`);
    expect(resources.resources.length).toBeGreaterThan(0);
    const uri = resources.resources[0].uri as string;
    const read = await documentAt(`${base}/api/everything/resources/read?uri=${encodeURIComponent(uri)}`);
    expect(read.contents[0].uri).toBe(uri);
    const prompts = await documentAt(`${base}/api/everything/prompts`);
    const simple = prompts.prompts.find((p: { arguments?: { required?: boolean }[] }) => !p.arguments?.some((a) => a.required));
    const got = await postJson(`${base}/api/everything/prompts/${simple.name}`, {});
    expect(got.status).toBe(200);
    expect(got.body.messages.length).toBeGreaterThan(0);
  });

  it('cuts a result over 100,000 characters with a clear marker instead of failing', async () => {
    const res = await postJson(`${base}/api/test/big`, { bytes: 300_000 });
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    expect(text.length).toBeLessThanOrEqual(100_000);
    expect(res.body.truncated).toBe(true);
    expect(res.body.content[0].text).toMatch(/cut by the gateway: \d+ more characters; the full result was \d+ characters/);
  });
});

describe('the docs page', () => {
  const chromiumPath = '/usr/bin/chromium';

  it.skipIf(!existsSync(chromiumPath) && !process.env.CI)('loads in headless Chromium, lists the operations, and calls echo', { timeout: 120_000 }, async () => {
    const browser = await chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'chromium-')), {
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith(base)) external.push(req.url());
      });
      await page.goto(`${base}/docs`);
      const echo = page.locator('#operations-everything-everything__echo');
      await echo.waitFor({ timeout: 30_000 });
      expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
      await echo.locator('.opblock-summary').click();
      // The page opens operations ready to try (tryItOutEnabled).
      await echo.locator('textarea.body-param__text').waitFor({ timeout: 30_000 });
      await echo.locator('textarea.body-param__text').fill('{"message": "from the docs page"}');
      await echo.getByRole('button', { name: 'Execute' }).click();
      await expect.poll(async () => echo.locator('.live-responses-table').first().innerText().catch(() => ''), { timeout: 30_000 }).toContain('Echo: from the docs page');
      await page.screenshot({ path: path.join(os.tmpdir(), 'mcp-gateway-docs.png'), fullPage: false });
      expect(external).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
