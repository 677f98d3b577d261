/**
 * The `mcp-gateway` command as users meet it: help, version, their mistakes (one message, the
 * detail and the fix, no stack trace), `config check`, `deploy --dry-run` with the real wrangler,
 * `deploy` with a stand-in wrangler, and a running gateway's startup report, tool filters, JSON
 * logs and hot reload of its config file.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayProcess, health, killLeftovers, newSession, postJson, processesWithMarker, TEST_SERVER, tempDir, waitUntil, writeConfig } from './harness.ts';

const marker = randomUUID();
const started: GatewayProcess[] = [];

afterAll(async () => {
  await Promise.all(started.map((p) => p.kill('SIGKILL')));
  killLeftovers(marker);
});

function gateway(args: string[], env: NodeJS.ProcessEnv = {}): GatewayProcess {
  const process = new GatewayProcess(args, marker, env);
  started.push(process);
  return process;
}

/** Runs a command to its end. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = gateway(args, env);
  const { code } = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/** A port nothing listens on (as far as anyone can know). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const testServer = (extra = '') => `
    command: ${process.execPath}
    args: [${TEST_SERVER}]${extra}`;

describe('help and version', () => {
  it('--help, <command> --help and --version print and exit 0', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('mcp-gateway deploy');
    const host = await run(['host', '--help']);
    expect(host.code).toBe(0);
    expect(host.stdout).toMatch(/^mcp-gateway host: /);
    expect(host.stdout).toContain('--edge <url>');
    expect(host.stdout).not.toContain('--dry-run');
    const version = await run(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });
});

describe('mistakes', () => {
  const dir = tempDir();
  const bad = writeConfig(dir, 'port: 0\nservers:\n  a:\n    comand: x\n', 'bad.yaml');
  const empty = writeConfig(dir, 'port: 0\nservers: {}\n', 'empty.yaml');
  const exposed = writeConfig(dir, 'hostname: 0.0.0.0\nport: 0\nservers: {}\n', 'exposed.yaml');

  it.each([
    ['an unknown command', () => ['hots'], /^error: unknown command "hots" \(did you mean "host"\?\)/],
    ['an unknown option', () => ['start', '--prot', '3000'], /^error: unknown option --prot\n {2}mcp-gateway start takes: /],
    ['an option of another command', () => ['start', '--edge', 'http://x'], /^error: --edge does not apply to mcp-gateway start/],
    ['host without --edge', () => ['host', '--token', 'x'], /^error: --edge is required/],
    ['a bad config', () => ['config', 'check', '--config', bad], /^error: .*bad\.yaml: 2 config errors\n.*bad\.yaml:3: servers\.a\.command: missing: a string is required here\n.*bad\.yaml:4: servers\.a\.comand: unknown key "comand"/],
    ['a missing config file', () => ['start', '--config', path.join(dir, 'nope.yaml')], /^error: cannot read config file .*nope\.yaml/],
    ['no auth on an address other machines reach', () => ['start', '--config', exposed], /^error: config\.yaml has no auth, and hostname 0\.0\.0\.0 is reachable from other machines\n.*\n {2}fix: .*--open/],
  ])('%s: one message, the detail, the fix, exit 1, no stack', async (_what, args, expected) => {
    const { code, stderr, stdout } = await run(args());
    expect(code).toBe(1);
    expect(stderr).toMatch(expected);
    expect(stderr).toMatch(/\n {2}fix: \S/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
  });

  it('host with an edge nobody listens at: a clear error at the first attempt, not endless retries', async () => {
    const port = await closedPort();
    const { code, stderr } = await run(['host', '--edge', `http://127.0.0.1:${port}`, '--token', 'token-0123456789abcdef', '--config', empty]);
    expect(code).toBe(1);
    expect(stderr).toContain(`error: cannot reach the edge at http://127.0.0.1:${port}: nothing is listening there`);
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr).toMatch(/fix: .*--retry/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('host with a wrong host token: the edge refuses it, and the host says which token to use', async () => {
    const edgeConfig = writeConfig(dir, 'port: 0\nhostTokens: [{token: "the-right-token-0123456789"}]\nservers: {}\n', 'edge.yaml');
    const edge = gateway(['edge', '--config', edgeConfig]);
    const base = (await edge.waitForOutput(/edge ready at (http:\/\/\S+)/))[1]!;
    const { code, stderr } = await run(['host', '--edge', base, '--token', 'a-wrong-token-0123456789', '--config', empty]);
    expect(code).toBe(1);
    expect(stderr).toContain(`error: the edge at ${base} refused the host token`);
    expect(stderr).toMatch(/fix: pass one of the edge's host tokens/);
    expect(stderr).not.toContain('a-wrong-token-0123456789');
    await edge.kill();
  });
});

describe('config check', () => {
  it('prints a summary and exits 0 for a valid config, Claude Desktop files included', async () => {
    const dir = tempDir();
    const yaml = writeConfig(dir, `port: 0\nservers:\n  a:${testServer()}\n  b:${testServer('\n    enabled: false')}\n`);
    const checked = await run(['config', 'check', '--config', yaml]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain(`${yaml}: valid`);
    expect(checked.stdout).toContain('servers: 2 (1 disabled)');

    const claude = writeConfig(dir, JSON.stringify({ mcpServers: { fs: { command: process.execPath, args: [TEST_SERVER] } } }, null, 2), 'claude_desktop_config.json');
    const fromClaude = await run(['config', 'check', '--config', claude]);
    expect(fromClaude.code).toBe(0);
    expect(fromClaude.stdout).toContain('valid (a Claude Desktop config');
    expect(fromClaude.stdout).toContain(`fs: ${process.execPath} ${TEST_SERVER}`);
  });
});

describe('deploy', () => {
  const config = (dir: string) =>
    writeConfig(
      dir,
      `hostTokens:
  - token: "host-token-0123456789abcdef"
auth:
  bearer:
    tokens: ["client-token-0123456789"]
`,
    );

  it('--dry-run bundles the edge with wrangler, with its Durable Object, and sets no secrets', async () => {
    const dir = tempDir();
    const outdir = path.join(dir, 'bundle');
    const { code, stdout, stderr } = await run(['deploy', '--dry-run', '--outdir', outdir, '--config', config(dir)], {
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      CLOUDFLARE_API_TOKEN: '',
    });
    expect(code, stderr).toBe(0);
    const bundle = readFileSync(path.join(outdir, 'index.js'), 'utf8');
    // Checked without printing a 4 MB bundle on failure.
    expect(/\bHubObject = class extends DurableObject\b/.test(bundle), 'the bundle defines the HubObject Durable Object').toBe(true);
    expect(/export\s*\{[^}]*\bHubObject\b/.test(bundle), 'the bundle exports HubObject').toBe(true);
    expect(stdout + stderr).toContain('--dry-run: exiting now.');
    expect(stdout).toContain('no secrets are set');
    expect(stdout + stderr).not.toContain('host-token-0123456789abcdef');
  }, 120_000);

  it('deploys and then sets HOST_TOKENS and CLIENT_AUTH through wrangler secret bulk on stdin', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'calls.jsonl');
    const fake = path.join(dir, 'wrangler.mjs');
    writeFileSync(
      fake,
      `import { appendFileSync, readFileSync } from 'node:fs';
const args = process.argv.slice(2);
const input = args[0] === 'secret' ? readFileSync(0, 'utf8') : undefined;
appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args, input }) + '\\n');
`,
    );
    const { code, stdout, stderr } = await run(['deploy', '--config', config(dir), '--', '--env', 'production'], { MCP_GATEWAY_WRANGLER: fake });
    expect(code, stderr).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { args: string[]; input?: string });
    expect(calls.map((c) => c.args.slice(0, 2))).toEqual([['deploy', '--config'], ['secret', 'bulk']]);
    expect(calls[0]!.args.slice(-2)).toEqual(['--env', 'production']);
    expect(calls[1]!.args.slice(-2)).toEqual(['--env', 'production']);
    const secrets = JSON.parse(calls[1]!.input!) as Record<string, string>;
    expect(JSON.parse(secrets.HOST_TOKENS!)).toEqual([{ token: 'host-token-0123456789abcdef' }]);
    expect(JSON.parse(secrets.CLIENT_AUTH!)).toEqual({ basic: [], bearer: ['client-token-0123456789'] });
    expect(stdout).toContain('HOST_TOKENS (1 tokens) and CLIENT_AUTH (1 bearer)');
    expect(stdout + stderr).not.toContain('host-token-0123456789abcdef');
  });

  it('refuses to deploy an edge without auth, unless --open', async () => {
    const dir = tempDir();
    const file = writeConfig(dir, 'hostTokens: [{token: "host-token-0123456789abcdef"}]\n');
    const { code, stderr } = await run(['deploy', '--dry-run', '--config', file], { MCP_GATEWAY_WRANGLER: path.join(dir, 'never-run.mjs') });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: config\.yaml has no auth/);
    expect(stderr).toContain('--open');
  });
});

describe('a running gateway', () => {
  it('reports what started, filters tools, logs JSON, and applies config changes per server without a restart', async () => {
    const dir = tempDir();
    const configText = (b: string, extra = '') => `port: 0
debug:
  format: json
servers:
  a:${testServer('\n    tools:\n      deny: [crash, "wait-*"]')}
  b:${testServer(`\n    env:\n      VERSION: "${b}"`)}
  broken:
    command: no-such-command-for-the-gateway-test
  off:${testServer('\n    enabled: false')}
${extra}`;
    const file = writeConfig(dir, configText('1'));
    const gw = gateway(['start', '--config', file]);
    const base = (await gw.waitForOutput(/MCP gateway ready at (http:\/\/\S+)/))[1]!;

    // The startup report: each server's tool count, and a clear failure with its fix.
    expect(gw.stdout).toMatch(/\n {2}a \(\d+ tools\):\n/);
    expect(gw.stdout).toMatch(/\n {2}broken: FAILED to start \(announced with no tools\)\n {4}error: .*no-such-command-for-the-gateway-test.*\n {4}fix: {3}the command was not found: install it, or fix servers\.broken\.command/);
    expect(gw.stdout).not.toContain('off');
    const first = await health(base);
    expect(first.hosts[0]!.servers.sort()).toEqual(['a', 'b', 'broken']);

    // JSON logs: the host's lines are JSON objects with time, level and msg.
    const hostLines = gw.stderr.split('\n').filter((l) => l.includes('"scope":"host"')).map((l) => JSON.parse(l));
    expect(hostLines.some((l) => l.level === 'info' && /^server a: \d+ tools$/.test(l.message) && l.time)).toBe(true);
    expect(gw.stderr).not.toMatch(/\[INFO\]/);

    // Tool filters: left out of what the edge serves, refused by REST, and by an MCP session (the host answers).
    const tools = (await (await fetch(`${base}/api/a/tools`)).json()) as { tools: { name: string }[] };
    expect(tools.tools.map((t) => t.name)).toContain('pid');
    expect(tools.tools.map((t) => t.name)).not.toContain('crash');
    const refused = await postJson(`${base}/api/a/crash`, {});
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('TOOL_NOT_FOUND');
    const client = new Client({ name: 'cli-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/a/mcp`)));
    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name)).not.toContain('crash');
    expect(listed.tools.map((t) => t.name)).not.toContain('wait-for-cancel');
    await expect(client.callTool({ name: 'crash', arguments: {} })).rejects.toThrow(/Unknown tool: crash/);
    const pidOverMcp = async () => Number(((await client.callTool({ name: 'pid', arguments: {} })) as { content: { text: string }[] }).content[0]!.text);
    const mcpPid = await pidOverMcp();

    // REST sessions on a and b, each with its own process.
    const session = await newSession(base);
    const pidOf = async (server: string) => {
      const res = await postJson(`${base}/api/${server}/pid?sessionId=${session}`, {});
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return Number(res.body.content[0].text);
    };
    const a1 = await pidOf('a');
    const b1 = await pidOf('b');

    // Change b only: b restarts (server.update), a and its MCP session keep running.
    writeFileSync(file, configText('2'));
    await gw.waitForOutput(/"message":"config reloaded: restarted b"/);
    expect(await pidOf('a')).toBe(a1);
    const b2 = await pidOf('b');
    expect(b2).not.toBe(b1);
    expect(await pidOverMcp()).toBe(mcpPid);

    // Add c, remove broken, change nothing else: announced again; a's REST process keeps running.
    writeFileSync(file, configText('2', `  c:${testServer()}\n`).replace(/ {2}broken:\n.*\n/, ''));
    await gw.waitForOutput(/"message":"config reloaded: added c; removed broken"/);
    await waitUntil(async () => ((await health(base)).hosts[0]?.servers.sort().join() === 'a,b,c' ? true : undefined), 10_000, 'the edge to list a, b and c');
    expect(await pidOf('a')).toBe(a1);
    expect(await pidOf('b')).toBe(b2);
    expect((await postJson(`${base}/api/c/pid?sessionId=${session}`, {})).status).toBe(200);
    expect((await postJson(`${base}/api/broken/pid`, {})).status).toBeGreaterThanOrEqual(400);

    // A broken edit is reported and changes nothing.
    writeFileSync(file, 'servers:\n  a:\n    comand: x\n');
    await gw.waitForOutput(/still running the previous config/);
    expect(await pidOf('a')).toBe(a1);

    await client.close().catch(() => {});
    process.kill(gw.pid, 'SIGINT');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    await waitUntil(() => (processesWithMarker(marker).length === 0 ? true : undefined), 10_000, 'every started process to exit');
    expect(existsSync(file)).toBe(true);
  }, 120_000);
});
