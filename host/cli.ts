/** The command line: `start` (edge and host together), `edge`, `host`. Parses, runs, and returns a stop function. */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { NAME_PATTERN } from '../shared/constants.ts';
import type { ClientAuth, HostToken } from '../shared/auth.ts';
import { type Config } from '../shared/config.ts';
import { randomId } from '../shared/secure.ts';
import { stringify } from 'yaml';
import { buildOpenApi } from '../shared/openapi.ts';
import { HostAgent } from './agent.ts';
import { Instances } from './instances.ts';
import { defaultConfigPath, loadConfig } from './config.ts';
import { startLocalEdge } from './local-edge.ts';
import { Logger } from './logger.ts';
import { UserError } from './user-error.ts';

export const VERSION = '0.1.0';

export const HELP = `mcp-gateway ${VERSION}: STDIO MCP servers behind one URL

Usage:
  mcp-gateway [start]                       edge (on workerd) and a host agent, from config.yaml
  mcp-gateway edge  --token <host-token>    only the edge, on this machine
  mcp-gateway host  --edge <url> --token <host-token>
                                            only the host agent, serving config.yaml's servers
  mcp-gateway schema [--format yaml|json]   print the OpenAPI document for config.yaml's servers
                                            (also: --schemaDump [--schemaFormat json], as the original)
Options:
  --config <file>    config file (default: $CONFIG_PATH or ./config.yaml)
  --host-id <id>     this machine's name at the edge (default: config host.id or the OS hostname)
  -h, --help         this help
  -v, --version      the version
`;

export interface Running {
  stop(): Promise<void>;
  /** Settles when the command cannot go on (a fatal error after start). */
  failed: Promise<never>;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Running | undefined> {
  const { values, positionals } = parseCliArgs(argv);
  if (values.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return undefined;
  }
  const command = values.schemaDump ? 'schema' : (positionals[0] ?? 'start');
  if (positionals.length > 1) throw new UserError(`unexpected argument "${positionals[1]}"`, '', 'run mcp-gateway --help');
  const configFile = values.config ?? defaultConfigPath(env);

  switch (command) {
    case 'start': {
      const { config, dir } = loadConfig(configFile, env);
      const logger = new Logger(config.debug.level);
      const token = randomId();
      logger.addSecret(token);
      const edge = await startEdge(config, token, logger);
      const edgeUrl = edge.url.toString().replace(/\/$/, '');
      const agent = new HostAgent({ edgeUrl, token, hostId: hostIdFor(values['host-id'], config), config, baseDir: dir, logger });
      const failed = fatalOf(agent);
      await agent.start();
      await Promise.race([waitFor(agent, 'welcome'), failed]);
      printReady(edgeUrl, agent.servers.map((s) => s.name));
      return { stop: async () => { await agent.stop(); await edge.dispose(); }, failed };
    }
    case 'edge': {
      const { config } = loadConfig(configFile, env);
      const token = values.token ?? env.HOST_TOKEN;
      if (!token && config.hostTokens.length === 0) {
        throw new UserError('no host token', 'host agents need a token to connect to this edge', 'pass --token <token>, or list hostTokens in config.yaml');
      }
      const logger = new Logger(config.debug.level);
      if (token) logger.addSecret(token);
      const edge = await startEdge(config, token, logger);
      process.stdout.write(`MCP gateway edge ready at ${edge.url.toString().replace(/\/$/, '')}\n`);
      return { stop: () => edge.dispose(), failed: new Promise<never>(() => {}) };
    }
    case 'host': {
      const { config, dir } = loadConfig(configFile, env);
      const edgeUrl = requireOption(values.edge ?? env.MCP_GATEWAY_EDGE, '--edge', "the edge's URL, e.g. https://mcp.example.com");
      const token = requireOption(values.token ?? env.MCP_GATEWAY_TOKEN, '--token', 'one of the edge\'s HOST_TOKENS');
      const logger = new Logger(config.debug.level);
      logger.addSecret(token);
      const agent = new HostAgent({ edgeUrl, token, hostId: hostIdFor(values['host-id'], config), config, baseDir: dir, logger });
      const failed = fatalOf(agent);
      await agent.start();
      return { stop: () => agent.stop(), failed };
    }
    case 'schema': {
      const { config, dir } = loadConfig(configFile, env);
      const format = values.format ?? values.schemaFormat ?? 'yaml';
      if (format !== 'yaml' && format !== 'json') throw new UserError(`unknown schema format "${format}"`, 'formats: yaml, json', 'pass --format yaml or --format json');
      process.stdout.write(await schemaDocument(config, dir, format));
      return undefined;
    }
    default:
      throw new UserError(`unknown command "${command}"`, 'commands: start, edge, host, schema', 'run mcp-gateway --help');
  }
}

function parseCliArgs(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        edge: { type: 'string' },
        token: { type: 'string' },
        'host-id': { type: 'string' },
        format: { type: 'string' },
        schemaDump: { type: 'boolean' },
        schemaFormat: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw new UserError((err as Error).message, '', 'run mcp-gateway --help');
  }
}

function requireOption(value: string | undefined, flag: string, what: string): string {
  if (!value) throw new UserError(`${flag} is required`, `${flag} gives ${what}`, `pass ${flag} <value>`);
  return value;
}

function hostIdFor(flag: string | undefined, config: Config): string {
  const id = flag ?? config.host.id ?? os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  if (!NAME_PATTERN.test(id)) throw new UserError(`invalid host id "${id}"`, 'host ids are 1 to 64 letters, digits, "_" or "-"', 'pass --host-id <id>');
  return id;
}

async function startEdge(config: Config, hostToken: string | undefined, logger: Logger) {
  const bindings: Record<string, string> = {
    HOST_TOKENS: hostTokensBinding(config, hostToken),
    CALL_TIMEOUT_MS: String(config.limits.callTimeoutMs),
    MAX_BODY_BYTES: String(config.limits.maxBodyBytes),
    SSE_KEEPALIVE_MS: String(config.limits.sseKeepaliveMs),
    MCP_IDLE_MS: String(config.limits.mcpSessionIdleMs),
    ALLOWED_ORIGINS: config.allowedOrigins.join(','),
    ALLOWED_HOSTS: [...allowedHosts(config.hostname), ...(config.publicUrl ? [new URL(config.publicUrl).hostname] : [])].join(','),
    PUBLIC_URL: config.publicUrl ?? '',
    MAX_SESSIONS_PER_PRINCIPAL: String(config.limits.maxSessionsPerPrincipal),
    MAX_RESULT_CHARS: String(config.limits.maxResultChars),
  };
  const auth = clientAuthBinding(config);
  if (auth) bindings.CLIENT_AUTH = auth;
  try {
    return await startLocalEdge({ hostname: config.hostname, port: config.port, bindings });
  } catch (err) {
    const message = (err as Error).message;
    if (/EADDRINUSE|address already in use/i.test(message)) {
      throw new UserError(`port ${config.port} on ${config.hostname} is already in use`, message, 'stop whatever uses it, or set another `port` in config.yaml');
    }
    logger.error('the local edge failed to start');
    throw err;
  }
}

/**
 * Host names the local edge answers to (DNS-rebinding protection): the one it listens on, the
 * loopback names, and when it listens on every interface, this machine's names and addresses.
 */
export function allowedHosts(hostname: string): string[] {
  const hosts = new Set([hostname, 'localhost', '127.0.0.1', '::1']);
  if (hostname === '0.0.0.0' || hostname === '::') {
    hosts.add(os.hostname());
    for (const addresses of Object.values(os.networkInterfaces())) for (const a of addresses ?? []) hosts.add(a.address);
  }
  return [...hosts];
}

/** Client credentials from config.yaml as the edge's CLIENT_AUTH secret. */
export function clientAuthBinding(config: Config): string | undefined {
  const { basic, bearer, jwt } = config.auth ?? {};
  const value: ClientAuth = {
    basic: basic?.enabled ? basic.credentials : [],
    bearer: bearer?.enabled ? bearer.tokens : [],
  };
  if (jwt?.enabled) {
    const { enabled: _enabled, ...rest } = jwt;
    value.jwt = rest;
  }
  return value.basic.length || value.bearer.length || value.jwt ? JSON.stringify(value) : undefined;
}

/** Host tokens from config.yaml, plus the one this process generated, as the edge's HOST_TOKENS secret. */
export function hostTokensBinding(config: Config, generated?: string): string {
  const tokens: HostToken[] = [...config.hostTokens];
  if (generated) tokens.push({ token: generated });
  return JSON.stringify(tokens);
}

/** The OpenAPI document the edge would serve for this config's servers, without an edge. */
async function schemaDocument(config: Config, baseDir: string, format: 'yaml' | 'json'): Promise<string> {
  const logger = new Logger(config.debug.level === 'info' ? 'warn' : config.debug.level);
  const instances = new Instances({ config, baseDir, logger });
  try {
    const servers = await Promise.all(
      Object.keys(config.servers).map(async (name) => {
        try {
          return { name, tools: await instances.listTools(name) };
        } catch (err) {
          logger.warn(`server ${name} left out of the document: it failed to start`, { error: (err as Error).message });
          return { name, tools: [] };
        }
      }),
    );
    const auth = config.auth;
    const document = buildOpenApi({
      servers,
      serverUrl: (config.publicUrl ?? `http://${['0.0.0.0', '::'].includes(config.hostname) ? '127.0.0.1' : config.hostname}:${config.port}`).replace(/\/$/, ''),
      auth: { basic: Boolean(auth?.basic?.enabled), bearer: Boolean(auth?.bearer?.enabled), jwt: Boolean(auth?.jwt?.enabled) },
    });
    return format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { aliasDuplicateObjects: false });
  } finally {
    await instances.dispose();
  }
}

function printReady(base: string, servers: string[]): void {
  const lines = [`MCP gateway ready at ${base}`, `  health:   ${base}/health`, `  session:  ${base}/api/sessionid`];
  lines.push(`  OpenAPI:  ${base}/openapi.json  (docs: ${base}/docs)`);
  for (const server of servers) {
    lines.push(`  ${server}:`, `    REST:            POST ${base}/api/${server}/{tool}`, `    Streamable HTTP: ${base}/${server}/mcp`, `    HTTP+SSE:        ${base}/${server}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

function waitFor(emitter: HostAgent, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

function fatalOf(agent: HostAgent): Promise<never> {
  return new Promise<never>((_, reject) => agent.once('fatal', reject));
}
