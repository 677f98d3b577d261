import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { principalId } from '../shared/auth.ts';
import { GatewayError } from '../shared/errors.ts';
import { commandHelp, configSummary, fatalError, HELP, loggerFor, runCli, startFailureHint, unreachable, VERSION } from './cli.ts';
import { loadConfig } from './config.ts';
import { UserError } from './user-error.ts';
import { startCause } from '../host/start-failure.ts';
import { listenError } from './cli-report.ts';
import { checkAddress } from '../local/local-edge.ts';
import net from 'node:net';

const dir = mkdtempSync(path.join(tmpdir(), 'gw-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function stdoutOf(fn: () => Promise<unknown>): Promise<string> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  return fn().then(() => out);
}

async function mistake(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<UserError> {
  const err = await runCli(argv, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('help and version', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(await stdoutOf(() => runCli(['--version'], {}))).toBe(`${VERSION}\n`);
  });

  it('--help lists every command', async () => {
    const out = await stdoutOf(() => runCli(['--help'], {}));
    expect(out).toBe(HELP);
    for (const command of ['[start]', 'edge', 'host', 'schema', 'config check', 'oauth list', 'deploy']) expect(out).toContain(`mcp-gateway ${command}`);
  });

  it.each(['start', 'edge', 'host', 'schema', 'config', 'oauth', 'deploy'])('%s --help prints that command\'s usage and options', async (command) => {
    const out = await stdoutOf(() => runCli([command, '--help'], {}));
    expect(out).toBe(commandHelp(command));
    expect(out.startsWith(`mcp-gateway ${command}: `)).toBe(true);
    expect(out).toContain('--config <file>');
  });

  it('help <command> is the same as <command> --help', async () => {
    expect(await stdoutOf(() => runCli(['help', 'host'], {}))).toBe(commandHelp('host'));
    expect(commandHelp('host')).toContain('--edge <url>');
    expect(commandHelp('host')).toContain('--retry');
    expect(commandHelp('deploy')).toContain('--dry-run');
  });
});

describe('mistakes', () => {
  it('an unknown command, with a suggestion', async () => {
    const err = await mistake(['hots']);
    expect(err.message).toBe('unknown command "hots" (did you mean "host"?)');
    expect(err.detail).toContain('commands: start, edge, host, schema, config, deploy');
  });

  it('an unknown option names the command\'s options', async () => {
    const err = await mistake(['host', '--edg', 'x']);
    expect(err.message).toBe('unknown option --edg');
    expect(err.detail).toContain('--edge');
    expect(err.fix).toBe('run mcp-gateway host --help');
  });

  it('an option of another command', async () => {
    expect((await mistake(['start', '--edge', 'http://x'])).message).toBe('--edge does not apply to mcp-gateway start');
  });

  it('a missing --edge or --token for host, before the config is read', async () => {
    const err = await mistake(['host', '--token', 't', '--config', path.join(dir, 'missing.yaml')]);
    expect(err.message).toBe('--edge is required');
    expect((await mistake(['host', '--edge', 'http://127.0.0.1:1'])).message).toBe('--token is required');
  });

  it('edge with a host token too short for the edge to accept, before it starts', async () => {
    const file = path.join(dir, 'edge.yaml');
    writeFileSync(file, 'port: 0\nservers: {}\n');
    const err = await mistake(['edge', '--token', 'tok', '--config', file]);
    expect(err.message).toBe('the host token is too weak: host tokens need at least 16 characters');
    expect(err.fix).toMatch(/longer --token/);
    expect((await mistake(['edge', '--config', file], { HOST_TOKEN: 'short' })).message).toMatch(/too weak/);
  });

  it('an option without its value', async () => {
    expect((await mistake(['host', '--edge'])).message).toBe('--edge needs a value');
  });

  it('an --edge that is not an http(s) URL', async () => {
    expect((await mistake(['host', '--edge', 'edge.example.com', '--token', 't'])).message).toMatch(/is not a URL/);
    expect((await mistake(['host', '--edge', 'ftp://x', '--token', 't'])).message).toMatch(/not an http\(s\) URL/);
  });

  it('config without check, an extra argument, --outdir without --dry-run, arguments after -- outside deploy', async () => {
    expect((await mistake(['config'])).message).toBe('config needs a command');
    expect((await mistake(['config', 'lint'])).message).toBe('unknown config command "lint"');
    expect((await mistake(['schema', 'extra'])).message).toBe('unexpected argument "extra"');
    expect((await mistake(['deploy', '--outdir', dir])).message).toBe('--outdir only goes with --dry-run');
    expect((await mistake(['start', '--', '--x'])).message).toBe('unexpected argument "--x"');
  });

  it('a bad config file, with its lines', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'port: 0\nservers:\n  a:\n    comand: x\n');
    const err = await mistake(['config', 'check', '--config', file]);
    expect(err.message).toBe(`${file}: 2 config errors`);
    expect(err.detail).toContain(`${file}:4: servers.a.comand: unknown key "comand"`);
  });
});

describe('config check', () => {
  it('names the operators by credential, and refuses an operator that is not a principal id', async () => {
    const id = await principalId.basic('alice', 'pw-1');
    const file = path.join(dir, 'operators.yaml');
    writeFileSync(file, `port: 0\nauth:\n  basic:\n    credentials: [{ username: alice, password: pw-1 }, { username: bob, password: pw-2 }]\n  operators: ["${id}"]\nservers: {}\n`);
    const out = await stdoutOf(() => runCli(['config', 'check', '--config', file], {}));
    expect(out).toContain(`basic alice: ${id}`);
    expect(out).toContain('/status: operators only (basic alice)');
    writeFileSync(file, 'port: 0\nauth:\n  basic:\n    credentials: [{ username: alice, password: pw-1 }]\n  operators: [alice]\nservers: {}\n');
    const err = await mistake(['config', 'check', '--config', file]);
    expect(err.detail).toContain('auth.operators.0: a principal id is basic:, bearer: or jwt: and 24 hex digits');
  });

  it('summarizes a valid config and warns about what would fail here', async () => {
    const file = path.join(dir, 'good.yaml');
    writeFileSync(
      file,
      `port: 0
auth:
  bearer:
    tokens: ["t1", "t2"]
hostTokens:
  - token: "0123456789abcdef0123"
    servers: [fs]
servers:
  fs:
    command: ${process.execPath}
    args: ["server.js"]
    env:
      SECRET_KEY: "not printed"
    tools:
      deny: [write_file]
  gone:
    command: no-such-command-anywhere
  off:
    command: x
    enabled: false
`,
    );
    const out = await stdoutOf(() => runCli(['config', 'check', '--config', file], { PATH: '/usr/bin:/bin' }));
    expect(out).toContain(`${file}: valid`);
    expect(out).toContain('auth: bearer (2 tokens)');
    expect(out).toMatch(/principals \(the ids auth\.operators lists\):\n {4}bearer token 1: bearer:[0-9a-f]{24}\n {4}bearer token 2: bearer:[0-9a-f]{24}\n/);
    expect(out).not.toMatch(/\bt1\b|\bt2\b/);
    expect(out).toContain('/status: every credential (list auth.operators to narrow it)');
    expect(out).toContain('host tokens: 1 (one for fs)');
    expect(out).toContain('servers: 3 (1 disabled)');
    expect(out).toContain(`fs: ${process.execPath} server.js`);
    expect(out).toContain('env: SECRET_KEY');
    expect(out).not.toContain('not printed');
    expect(out).toContain('tools: all but write_file');
    expect(out).toContain('off: disabled');
    expect(out).toMatch(/warnings:\n {2}servers\.gone\.command: "no-such-command-anywhere" is not on PATH/);
  });

  it('names OAuth sign-in and its pre-registered clients', () => {
    const file = path.join(dir, 'oauth.yaml');
    writeFileSync(file, `auth:\n  basic:\n    credentials: [{ username: u, password: p }]\n  oauth:\n    clients: [{ id: gpt, secret: "${'s'.repeat(32)}", name: GPT, redirectUris: ["https://x.example/cb"] }]\n`);
    const out = configSummary(loadConfig(file, {}), {});
    expect(out).toContain('auth: basic (1 credential), OAuth sign-in (1 pre-registered client, dynamic registration)');
    expect(out).not.toContain('s'.repeat(32));
  });

  it('says when a file is a Claude Desktop config, and what was left out', () => {
    const file = path.join(dir, 'claude_desktop_config.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { a: { command: process.execPath }, r: { url: 'https://x.example/mcp' } } }));
    const out = configSummary(loadConfig(file, {}), {});
    expect(out).toContain('valid (a Claude Desktop config');
    expect(out).toContain('auth: none');
    expect(out).toMatch(/mcpServers\.r: left out/);
  });
});

describe('messages for failures after start', () => {
  it('explains why a server failed to start, by the cause of the failure', () => {
    expect(startFailureHint('x', 'not-found')).toMatch(/command was not found.*servers\.x\.command/);
    expect(startFailureHint('x', 'not-executable')).toMatch(/chmod \+x/);
    expect(startFailureHint('x', 'exited')).toMatch(/servers\.x\.args and servers\.x\.env/);
    expect(startFailureHint('x', 'no-initialize')).toMatch(/MCP server on STDIO/);
    expect(startFailureHint('x', undefined)).toMatch(/run the command by hand/);
  });

  it('the cause of a failed start comes from the errno or exit code, not the message', () => {
    expect(startCause({ spawnFailed: true, errno: 'ENOENT' })).toBe('not-found');
    expect(startCause({ spawnFailed: false, exitCode: 127 })).toBe('not-found');
    expect(startCause({ spawnFailed: true, errno: 'EACCES' })).toBe('not-executable');
    expect(startCause({ spawnFailed: false, exitCode: 126 })).toBe('not-executable');
    expect(startCause({ spawnFailed: false, exitCode: 1 })).toBe('exited');
    expect(startCause({ spawnFailed: false, exitCode: null, signal: 'SIGKILL' })).toBe('exited');
    expect(startCause(undefined)).toBe('no-initialize');
  });

  it('the first connection failure of host, by cause', () => {
    const edge = 'http://127.0.0.1:9';
    expect(unreachable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), edge).message).toMatch(/nothing is listening/);
    expect(unreachable(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), 'https://typo.example').message).toMatch(/typo\.example does not resolve/);
    expect(unreachable(Object.assign(new Error('HTTP 404'), { status: 404 }), edge).message).toMatch(/not an MCP gateway edge/);
    expect(unreachable(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'https://x.example').message).toMatch(/TLS/);
    expect(unreachable(Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), 'https://x.example').message).toMatch(/TLS/);
    // By code, not by the words of the message.
    expect(unreachable(new Error('certificate'), 'https://x.example').message).not.toMatch(/TLS/);
    expect(unreachable(new Error('boom'), edge).fix).toMatch(/--retry/);
  });

  it('an address the local edge cannot listen on, by the system error code', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const err = await checkAddress('127.0.0.1', port).then(() => undefined, (e: NodeJS.ErrnoException) => e);
      expect(err?.code).toBe('EADDRINUSE');
      expect(listenError(err!, '127.0.0.1', port).message).toBe(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      busy.close();
    }
    await expect(checkAddress('127.0.0.1', 0)).resolves.toBeUndefined();
    const notHere = Object.assign(new Error('listen EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' });
    expect((listenError(notHere, '10.9.9.9', 3000) as UserError).fix).toMatch(/hostname/);
    // Keyed by code: a message that merely mentions it is not taken for it.
    expect(listenError(new Error('EADDRINUSE'), 'h', 1)).not.toBeInstanceOf(UserError);
  });

  it('the edge refusing the host, as a mistake to fix', () => {
    expect(fatalError(new GatewayError('UNAUTHORIZED', 'refused (HTTP 401)'), 'https://e').message).toBe('the edge at https://e refused the host token');
    expect((fatalError(new GatewayError('FORBIDDEN', "the edge refused this host: this host's token may not announce server fs (allowed: git)"), 'https://e') as UserError).fix).toMatch(/hostTokens\[\]\.servers/);
    expect((fatalError(new GatewayError('PROTOCOL_MISMATCH', 'the edge refused this host: host speaks protocol 2.0'), 'https://e') as UserError).fix).toMatch(/same version/);
    expect((fatalError(new GatewayError('BAD_HELLO', 'the edge refused this host: host id mismatch'), 'https://e') as UserError).message).toMatch(/refused this host's hello/);
    // Keyed by code: the same words under another code are not taken for a refusal.
    expect(fatalError(new GatewayError('INTERNAL', 'may not announce'), 'https://e')).toBeInstanceOf(GatewayError);
  });
});

describe('loggerFor', () => {
  it("masks the config's credentials and host tokens in every line", async () => {
    const { ConfigSchema } = await import('../shared/config.ts');
    const config = ConfigSchema.parse({
      auth: { basic: { credentials: [{ username: 'u', password: 'basic-password' }] }, bearer: { tokens: ['bearer-token'] } },
      hostTokens: [{ token: 'host-token-0123456789' }],
    });
    const lines: string[] = [];
    const logger = loggerFor(config, undefined, { write: (l) => lines.push(l), color: false });
    logger.child('x').info('basic-password bearer-token host-token-0123456789', { url: 'bearer-token' });
    expect(lines[0]).not.toMatch(/basic-password|bearer-token|host-token/);
  });
});

describe('oauth', () => {
  it('needs OAuth in the config, a subcommand, a grant id to revoke, and an address to ask', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'oauth-cli-'));
    const plain = path.join(dir, 'plain.yaml');
    writeFileSync(plain, 'port: 3999\nauth:\n  bearer:\n    tokens: [t]\n');
    expect((await mistake(['oauth', 'list', '--config', plain])).message).toBe('OAuth is not enabled in this config');
    expect((await mistake(['oauth'])).message).toBe('oauth needs a command');
    expect((await mistake(['oauth', 'forget'])).message).toBe('unknown oauth command "forget"');
    expect((await mistake(['oauth', 'revoke'])).message).toBe('oauth revoke needs a grant id');
    expect((await mistake(['oauth', 'list', '--', 'x'])).message).toBe('unexpected argument "x"');
    expect((await mistake(['schema', '--', 'x'])).message).toBe('unexpected argument "x"');
    const free = path.join(dir, 'free.yaml');
    writeFileSync(free, 'port: 0\nauth:\n  bearer:\n    tokens: [t]\n  oauth: {}\n');
    expect((await mistake(['oauth', 'list', '--config', free])).fix).toMatch(/--edge/);
    expect((await mistake(['oauth', 'list', '--config', free, '--edge', 'http://127.0.0.1:9'])).message).toBe('cannot reach the gateway at http://127.0.0.1:9');
  });
});
