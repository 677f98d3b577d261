/**
 * The command line: `start` (edge and host together), `edge`, `host`, `schema`, `config check`,
 * `deploy`. Parses, runs, and returns a stop function for the long-running commands. A mistake
 * the user can fix is a UserError (one line, the detail, the fix), never a stack trace.
 */
import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { NAME_PATTERN } from '../shared/constants.ts';
import { isEnabled, type Config } from '../shared/config.ts';
import { GatewayError } from '../shared/errors.ts';
import { buildOpenApi } from '../shared/openapi.ts';
import type { ServerInfo } from '../shared/protocol.ts';
import { randomId } from '../shared/secure.ts';
import { HostAgent } from './agent.ts';
import { defaultConfigPath, loadConfig, type LoadedConfig } from './config.ts';
import { deploy } from './deploy.ts';
import { clientAuthBinding, configSecrets, hostTokensBinding } from './edge-secrets.ts';
import { startLocalEdge } from './local-edge.ts';
import { Logger, type LoggerOptions } from './logger.ts';
import { ConfigWatcher } from './reload.ts';
import { ServerSet } from './servers.ts';
import { UserError } from './user-error.ts';

export { clientAuthBinding, hostTokensBinding };

export const VERSION = '0.1.0';

/** Every option, with its help line. */
const OPTIONS = {
  config: { type: 'string', help: '--config <file>     config file (default: $CONFIG_PATH or ./config.yaml); a Claude Desktop claude_desktop_config.json works too' },
  edge: { type: 'string', help: "--edge <url>        the edge's URL, e.g. https://mcp-gateway.you.workers.dev (or $MCP_GATEWAY_EDGE)" },
  token: { type: 'string', help: '--token <token>     a host token (host: or $MCP_GATEWAY_TOKEN; edge: or $HOST_TOKEN, besides hostTokens)' },
  'host-id': { type: 'string', help: "--host-id <id>      this machine's name at the edge (default: host.id, or the OS hostname)" },
  retry: { type: 'boolean', help: "--retry             keep retrying when the edge cannot be reached at start (default: exit with the error)" },
  watch: { type: 'boolean', help: '--no-watch          do not apply config file changes while running (default: watch and apply)' },
  format: { type: 'string', help: '--format yaml|json  output format (default: yaml)' },
  'dry-run': { type: 'boolean', help: '--dry-run           bundle and check the Worker (wrangler deploy --dry-run); upload nothing, set no secrets' },
  outdir: { type: 'string', help: '--outdir <dir>      where --dry-run writes the bundle (default: a new temp folder)' },
  open: { type: 'boolean', help: '--open              allow a deploy without auth: an API anyone can call' },
  schemaDump: { type: 'boolean', help: '--schemaDump        print the OpenAPI document and exit (as the original)' },
  schemaFormat: { type: 'string', help: '--schemaFormat json with --schemaDump: JSON instead of YAML' },
  help: { type: 'boolean', short: 'h', help: '-h, --help          help (of a command: mcp-gateway <command> --help)' },
  version: { type: 'boolean', short: 'v', help: '-v, --version       the version' },
} as const;
type OptionName = keyof typeof OPTIONS;

interface CommandSpec {
  usage: string;
  summary: string;
  options: OptionName[];
  more?: string;
}

const COMMANDS: Record<string, CommandSpec> = {
  start: {
    usage: 'mcp-gateway [start] [--config <file>] [--host-id <id>] [--no-watch]',
    summary: 'the edge (on workerd) and a host agent on this machine, from config.yaml',
    options: ['config', 'host-id', 'watch', 'schemaDump', 'schemaFormat'],
    more: 'Prints the URLs when ready. Ctrl-C stops the edge, the host agent and every server process.\nServer changes in the config file apply while it runs (--no-watch: not).',
  },
  edge: {
    usage: 'mcp-gateway edge [--token <host-token>] [--config <file>]',
    summary: 'only the edge, on this machine, for host agents elsewhere',
    options: ['config', 'token'],
    more: 'Host agents connect with --token or one of hostTokens in config.yaml.',
  },
  host: {
    usage: 'mcp-gateway host --edge <url> --token <host-token> [--host-id <id>] [--retry] [--config <file>]',
    summary: "only the host agent: runs config.yaml's servers for an edge elsewhere",
    options: ['config', 'edge', 'token', 'host-id', 'retry', 'watch'],
    more:
      'If the first connection fails (nothing listening, unknown name, not a gateway), it exits with\n' +
      'the error, unless --retry. Once connected, it reconnects by itself after any drop.\n' +
      'Server changes in the config file apply while it runs (--no-watch: not).',
  },
  schema: {
    usage: 'mcp-gateway schema [--format yaml|json] [--config <file>]',
    summary: "print the OpenAPI document for config.yaml's servers (also: --schemaDump [--schemaFormat json])",
    options: ['config', 'format'],
  },
  config: {
    usage: 'mcp-gateway config check [--config <file>]',
    summary: 'check the config file: a summary of what it sets up, or every error with its line',
    options: ['config'],
    more: 'Exits 1 when the file has errors.',
  },
  deploy: {
    usage: 'mcp-gateway deploy [--dry-run [--outdir <dir>]] [--open] [--config <file>] [-- <more wrangler deploy arguments>]',
    summary: 'deploy the edge to Cloudflare (wrangler deploy), and set its secrets HOST_TOKENS and CLIENT_AUTH from config.yaml',
    options: ['config', 'dry-run', 'outdir', 'open'],
    more: 'Needs `npx wrangler login` (or CLOUDFLARE_API_TOKEN) first, except --dry-run. See docs/deploy.md.',
  },
};

const GLOBAL_OPTIONS: OptionName[] = ['help', 'version'];

export const HELP = `mcp-gateway ${VERSION}: STDIO MCP servers behind one URL

Usage:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}\n      ${c.summary}`)
  .join('\n')}
  mcp-gateway <command> --help
      that command's options

Options:
  ${OPTIONS.config.help}
  ${OPTIONS.help.help}
  ${OPTIONS.version.help}
`;

/** The help of one command. */
export function commandHelp(name: string): string {
  const spec = COMMANDS[name];
  if (!spec) return HELP;
  const options = [...spec.options, ...GLOBAL_OPTIONS].filter((o) => !(name === 'start' && (o === 'schemaDump' || o === 'schemaFormat')));
  return `mcp-gateway ${name}: ${spec.summary}

Usage:
  ${spec.usage}
${spec.more ? `\n${spec.more}\n` : ''}
Options:
${options.map((o) => `  ${OPTIONS[o].help}`).join('\n')}
`;
}

export interface Running {
  stop(): Promise<void>;
  /** Settles when the command cannot go on (a fatal error after start). */
  failed: Promise<never>;
}

interface ParsedArgs {
  values: { [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };
  command: string;
  /** Whether the command was named (not the default `start`). */
  named: boolean;
  /** Positionals after the command (before `--`). */
  rest: string[];
  /** Arguments after `--`. */
  passThrough: string[];
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Running | undefined> {
  const { values, command, named, rest, passThrough } = parseCliArgs(argv);
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return undefined;
  }
  if (command === 'help') {
    process.stdout.write(rest[0] ? commandHelp(knownCommand(rest[0])) : HELP);
    return undefined;
  }
  if (values.help) {
    process.stdout.write(named ? commandHelp(knownCommand(command)) : HELP);
    return undefined;
  }
  if (passThrough.length && command !== 'deploy') unexpected(passThrough[0]!, command);
  const configFile = path.resolve(values.config ?? defaultConfigPath(env));

  switch (command) {
    case 'start': {
      if (rest.length) unexpected(rest[0]!, command);
      const loaded = loadConfig(configFile, env);
      const { config, dir } = loaded;
      const logger = loggerFor(config, loaded);
      const token = randomId();
      logger.addSecret(token);
      const edge = await startEdge(config, token, logger);
      const edgeUrl = edge.url.toString().replace(/\/$/, '');
      const agent = new HostAgent({ edgeUrl, token, hostId: hostIdFor(values['host-id'], config), config, baseDir: dir, logger });
      const failed = fatalOf(agent, edgeUrl);
      try {
        await agent.start();
        await Promise.race([waitFor(agent, 'welcome'), failed]);
      } catch (err) {
        await agent.stop();
        await edge.dispose();
        throw err;
      }
      printReady(edgeUrl, agent.servers, loaded);
      const watcher = values.watch === false ? undefined : new ConfigWatcher({ file: configFile, env, config, agent, logger });
      return {
        stop: async () => {
          watcher?.close();
          await agent.stop();
          await edge.dispose();
        },
        failed,
      };
    }
    case 'edge': {
      if (rest.length) unexpected(rest[0]!, command);
      const { config } = loadConfig(configFile, env);
      const token = values.token ?? env.HOST_TOKEN;
      if (!token && config.hostTokens.length === 0) {
        throw new UserError('no host token', 'host agents need a token to connect to this edge', 'pass --token <token>, or list hostTokens in config.yaml');
      }
      const logger = loggerFor(config);
      if (token) logger.addSecret(token);
      const edge = await startEdge(config, token, logger);
      process.stdout.write(`MCP gateway edge ready at ${edge.url.toString().replace(/\/$/, '')}\n`);
      return { stop: () => edge.dispose(), failed: new Promise<never>(() => {}) };
    }
    case 'host': {
      if (rest.length) unexpected(rest[0]!, command);
      // The flags first: a missing flag is the mistake to report, whatever the config says.
      const edgeUrl = edgeUrlOf(requireOption(values.edge ?? env.MCP_GATEWAY_EDGE, '--edge', "the edge's URL, e.g. https://mcp-gateway.you.workers.dev"));
      const token = requireOption(values.token ?? env.MCP_GATEWAY_TOKEN, '--token', "one of the edge's host tokens (hostTokens in its config.yaml)");
      const loaded = loadConfig(configFile, env);
      const { config, dir } = loaded;
      const hostId = hostIdFor(values['host-id'], config);
      const logger = loggerFor(config, loaded);
      logger.addSecret(token);
      const agent = new HostAgent({ edgeUrl, token, hostId, config, baseDir: dir, logger });
      let connected = false;
      agent.on('welcome', () => {
        if (connected) return;
        connected = true;
        printHostReady(hostId, edgeUrl, agent.servers, loaded);
      });
      const failures: Promise<never>[] = [fatalOf(agent, edgeUrl)];
      if (!values.retry) {
        failures.push(new Promise<never>((_, reject) => agent.once('connectError', (err: Error) => !connected && reject(unreachable(err, edgeUrl)))));
      }
      const failed = Promise.race(failures);
      failed.catch(() => {});
      await agent.start();
      const watcher = values.watch === false ? undefined : new ConfigWatcher({ file: configFile, env, config, agent, logger });
      return {
        stop: async () => {
          watcher?.close();
          await agent.stop();
        },
        failed,
      };
    }
    case 'schema': {
      if (rest.length) unexpected(rest[0]!, command);
      const { config, dir } = loadConfig(configFile, env);
      const format = values.format ?? values.schemaFormat ?? 'yaml';
      if (format !== 'yaml' && format !== 'json') throw new UserError(`unknown schema format "${format}"`, 'formats: yaml, json', 'pass --format yaml or --format json');
      process.stdout.write(await schemaDocument(config, dir, format));
      return undefined;
    }
    case 'config': {
      const sub = rest[0];
      if (sub !== 'check') {
        throw new UserError(sub ? `unknown config command "${sub}"` : 'config needs a command', 'config commands: check', 'run mcp-gateway config check');
      }
      if (rest.length > 1) unexpected(rest[1]!, 'config');
      const loaded = loadConfig(configFile, env);
      process.stdout.write(configSummary(loaded, env));
      return undefined;
    }
    case 'deploy': {
      if (rest.length) unexpected(rest[0]!, command);
      if (values.outdir && !values['dry-run']) throw new UserError('--outdir only goes with --dry-run', 'a real deploy uploads the bundle instead of writing it', 'add --dry-run, or drop --outdir');
      const { config } = loadConfig(configFile, env);
      await deploy({ config, dryRun: Boolean(values['dry-run']), outdir: values.outdir, open: Boolean(values.open), wranglerArgs: passThrough });
      return undefined;
    }
    default:
      throw unknownCommand(command);
  }
}

function parseCliArgs(argv: string[]): ParsedArgs {
  const options = Object.fromEntries(
    Object.entries(OPTIONS).map(([name, o]) => [name, { type: o.type, ...('short' in o ? { short: o.short } : {}) }]),
  ) as { [K in OptionName]: { type: 'string' | 'boolean'; short?: string } };
  // The command, for messages about its options: the first argument that is not an option or its value.
  const guess = argv.find((a, i) => !a.startsWith('-') && !(i > 0 && /^--(config|edge|token|host-id|format|outdir|schemaFormat)$/.test(argv[i - 1]!)));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, allowNegative: true, tokens: true, options });
  } catch (err) {
    const e = err as Error & { code?: string };
    const command = guess && COMMANDS[guess] ? guess : undefined;
    const name = /'(-[^' ]+)/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && name) {
      throw new UserError(`unknown option ${name}`, optionsOf(command), `run mcp-gateway ${command ? `${command} ` : ''}--help`);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && name) {
      throw new UserError(`${name} needs a value`, e.message, `pass ${name} <value>`);
    }
    throw new UserError(e.message, '', 'run mcp-gateway --help');
  }
  const terminator = parsed.tokens.find((t) => t.kind === 'option-terminator')?.index ?? Infinity;
  const before = parsed.tokens.filter((t) => t.kind === 'positional' && t.index < terminator).map((t) => (t as { value: string }).value);
  const passThrough = parsed.tokens.filter((t) => t.kind === 'positional' && t.index > terminator).map((t) => (t as { value: string }).value);
  const values = parsed.values as ParsedArgs['values'];
  const command = values.schemaDump ? 'schema' : (before[0] ?? 'start');
  const rest = values.schemaDump ? before : before.slice(1);
  if (command !== 'help' && COMMANDS[command] && !values.help) {
    const allowed = new Set<string>([...COMMANDS[command]!.options, ...GLOBAL_OPTIONS, ...(values.schemaDump ? ['schemaDump', 'schemaFormat'] : [])]);
    for (const token of parsed.tokens) {
      if (token.kind === 'option' && !allowed.has(token.name)) {
        throw new UserError(`${token.rawName} does not apply to mcp-gateway ${command}`, optionsOf(command), `run mcp-gateway ${command} --help`);
      }
    }
  }
  return { values, command, named: before.length > 0, rest, passThrough };
}

function optionsOf(command: string | undefined): string {
  const names = command ? COMMANDS[command]!.options.filter((o) => o !== 'schemaDump' && o !== 'schemaFormat') : (Object.keys(OPTIONS) as OptionName[]);
  const shown = [...names, ...(command ? GLOBAL_OPTIONS : [])].map((o) => (o === 'watch' ? '--no-watch' : `--${o}`));
  return `${command ? `mcp-gateway ${command}` : 'mcp-gateway'} takes: ${shown.join(', ')}`;
}

function knownCommand(name: string): string {
  if (!COMMANDS[name]) throw unknownCommand(name);
  return name;
}

function unknownCommand(name: string): UserError {
  const close = Object.keys(COMMANDS).find((c) => editDistance(c, name) <= 2);
  return new UserError(`unknown command "${name}"${close ? ` (did you mean "${close}"?)` : ''}`, `commands: ${Object.keys(COMMANDS).join(', ')}`, 'run mcp-gateway --help');
}

function unexpected(argument: string, command: string): never {
  throw new UserError(`unexpected argument "${argument}"`, `usage: ${COMMANDS[command]?.usage ?? 'mcp-gateway --help'}`, `run mcp-gateway ${command} --help`);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

function requireOption(value: string | undefined, flag: string, what: string): string {
  if (!value) throw new UserError(`${flag} is required`, `${flag} gives ${what}`, `pass ${flag} <value>`);
  return value;
}

function edgeUrlOf(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(`--edge "${value}" is not a URL`, 'it is the base URL of the edge, with its scheme', 'pass e.g. --edge https://mcp-gateway.you.workers.dev or --edge http://127.0.0.1:3000');
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new UserError(`--edge "${value}" is not an http(s) URL`, `its scheme is ${url.protocol}`, 'pass e.g. --edge https://mcp-gateway.you.workers.dev');
  }
  return value.replace(/\/$/, '');
}

function hostIdFor(flag: string | undefined, config: Config): string {
  const id = flag ?? config.host.id ?? os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  if (!NAME_PATTERN.test(id)) throw new UserError(`invalid host id "${id}"`, 'host ids are 1 to 64 letters, digits, "_" or "-"', 'pass --host-id <id>');
  return id;
}

/** The process's logger, with every secret of the config masked. */
export function loggerFor(config: Config, loaded?: LoadedConfig, options: LoggerOptions = {}): Logger {
  const logger = new Logger(config.debug.level, { format: config.debug.format, ...options });
  for (const secret of configSecrets(config)) logger.addSecret(secret);
  for (const warning of loaded?.warnings ?? []) logger.warn(warning);
  return logger;
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
      throw new UserError(`port ${config.port} on ${config.hostname} is already in use`, message, 'stop whatever uses it (another mcp-gateway?), or set another `port` in config.yaml (0 picks a free one)');
    }
    if (/EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/i.test(message)) {
      throw new UserError(`cannot listen on ${config.hostname}`, message, 'set `hostname` in config.yaml to an address of this machine (127.0.0.1, or 0.0.0.0 for every interface)');
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

/** The OpenAPI document the edge would serve for this config's servers, without an edge. */
async function schemaDocument(config: Config, baseDir: string, format: 'yaml' | 'json'): Promise<string> {
  const logger = loggerFor({ ...config, debug: { ...config.debug, level: config.debug.level === 'info' ? 'warn' : config.debug.level } });
  const servers = new ServerSet({ config, baseDir, logger });
  try {
    const listed = await Promise.all(
      servers.names.map(async (name) => {
        try {
          return { name, tools: await servers.listTools(name) };
        } catch (err) {
          logger.warn(`server ${name} left out of the document: it failed to start`, { error: (err as Error).message });
          return { name, tools: [] };
        }
      }),
    );
    const auth = config.auth;
    const document = buildOpenApi({
      servers: listed,
      serverUrl: (config.publicUrl ?? `http://${['0.0.0.0', '::'].includes(config.hostname) ? '127.0.0.1' : config.hostname}:${config.port}`).replace(/\/$/, ''),
      auth: { basic: Boolean(auth?.basic?.enabled), bearer: Boolean(auth?.bearer?.enabled), jwt: Boolean(auth?.jwt?.enabled) },
    });
    return format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { aliasDuplicateObjects: false });
  } finally {
    await servers.dispose();
  }
}

/** How to fix a server that failed to start, from its error. */
export function startFailureHint(server: string, error: string): string {
  const key = `servers.${server}`;
  if (/could not start .*ENOENT|failed to execute .*No such file|exited with code 127\b/.test(error)) return `the command was not found: install it, or fix ${key}.command (a program on PATH, or a path from the config file's folder)`;
  if (/EACCES|Permission denied|exited with code 126\b/.test(error)) return `the command is not executable: chmod +x it, or fix ${key}.command`;
  if (/exited with code|killed by/.test(error)) return `the server exited while starting; its stderr (in the error) says why: check ${key}.args and ${key}.env`;
  if (/did not answer initialize/.test(error)) return `it did not answer MCP's initialize: is it an MCP server on STDIO? (debug.level: debug logs its stderr)`;
  return `run the command by hand to see why, or set debug.level: debug to log its stderr`;
}

function serverLines(servers: readonly ServerInfo[], describe: (s: ServerInfo) => string[]): string[] {
  const lines: string[] = [];
  for (const server of servers) {
    if (server.error) {
      lines.push(`  ${server.name}: FAILED to start (announced with no tools)`, `    error: ${server.error}`, `    fix:   ${startFailureHint(server.name, server.error)}`);
    } else {
      lines.push(`  ${server.name} (${server.tools.length} tool${server.tools.length === 1 ? '' : 's'}):`, ...describe(server));
    }
  }
  return lines;
}

function configLine(loaded: LoadedConfig): string {
  return `  config:   ${loaded.file}${loaded.format === 'claude-desktop' ? ' (a Claude Desktop config)' : ''}`;
}

function printReady(base: string, servers: readonly ServerInfo[], loaded: LoadedConfig): void {
  const lines = [`MCP gateway ready at ${base}`, configLine(loaded), `  health:   ${base}/health`, `  session:  ${base}/api/sessionid`];
  lines.push(`  OpenAPI:  ${base}/openapi.json  (docs: ${base}/docs)`);
  if (servers.length === 0) lines.push('  no servers: add some under `servers:` in the config file');
  lines.push(
    ...serverLines(servers, ({ name }) => [`    REST:            POST ${base}/api/${name}/{tool}`, `    Streamable HTTP: ${base}/${name}/mcp`, `    HTTP+SSE:        ${base}/${name}`]),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

function printHostReady(hostId: string, edge: string, servers: readonly ServerInfo[], loaded: LoadedConfig): void {
  const lines = [`host ${hostId} connected to ${edge}`, configLine(loaded)];
  if (servers.length === 0) lines.push('  no servers: add some under `servers:` in the config file');
  lines.push(...serverLines(servers, ({ name }) => [`    ${edge}/${name}/mcp`]));
  process.stdout.write(lines.join('\n') + '\n');
}

/** The summary `config check` prints. */
export function configSummary(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): string {
  const { config, file, dir } = loaded;
  const lines = [`${file}: valid${loaded.format === 'claude-desktop' ? ' (a Claude Desktop config: its mcpServers; every other setting takes its default)' : ''}`];
  lines.push(`  local edge (mcp-gateway start): http://${config.hostname}:${config.port === 0 ? '<a free port>' : config.port}`);
  if (config.publicUrl) lines.push(`  public URL: ${config.publicUrl}`);
  const auth = config.auth;
  const methods = [
    auth?.basic?.enabled && `basic (${auth.basic.credentials.length} credential${auth.basic.credentials.length === 1 ? '' : 's'})`,
    auth?.bearer?.enabled && `bearer (${auth.bearer.tokens.length} token${auth.bearer.tokens.length === 1 ? '' : 's'})`,
    auth?.jwt?.enabled && `JWT (issuer ${auth.jwt.issuer})`,
  ].filter(Boolean);
  lines.push(`  auth: ${methods.length ? methods.join(', ') : 'none: anyone who can reach the edge can call every tool'}`);
  if (config.hostTokens.length) {
    const limited = config.hostTokens.filter((t) => t.servers);
    lines.push(`  host tokens: ${config.hostTokens.length}${limited.length ? ` (${limited.map((t) => `one for ${t.servers!.join(', ') || 'no server'}`).join('; ')})` : ''}`);
  }
  lines.push(`  log: ${config.debug.level}, ${config.debug.format}`);
  const all = Object.entries(config.servers);
  const disabled = all.filter(([, s]) => !isEnabled(s)).length;
  lines.push(`  servers: ${all.length}${disabled ? ` (${disabled} disabled)` : ''}`);
  const warnings = [...loaded.warnings];
  for (const [name, server] of all) {
    if (!isEnabled(server)) {
      lines.push(`    ${name}: disabled`);
      continue;
    }
    lines.push(`    ${name}: ${[server.command, ...server.args].join(' ')}`);
    if (server.path) lines.push(`      in ${server.path}`);
    const envKeys = Object.keys(server.env);
    if (envKeys.length) lines.push(`      env: ${envKeys.join(', ')}`);
    if (server.tools?.allow) lines.push(`      tools: only ${server.tools.allow.join(', ')}`);
    if (server.tools?.deny) lines.push(`      tools: all but ${server.tools.deny.join(', ')}`);
    const missing = commandProblem(server.command, dir, env);
    if (missing) warnings.push(`servers.${name}.command: ${missing} (it will fail to start on this machine)`);
    if (server.path && !isDirectory(path.resolve(dir, server.path))) warnings.push(`servers.${name}.path: ${path.resolve(dir, server.path)} is not a folder (it will fail to start on this machine)`);
  }
  if (all.length === 0) warnings.push('no servers: add some under `servers:`');
  if (warnings.length) lines.push('warnings:', ...warnings.map((w) => `  ${w}`));
  return lines.join('\n') + '\n';
}

/** Why `command` would not start here, if it would not: not found, or not executable. */
function commandProblem(command: string, dir: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = command.includes('/') ? [path.resolve(dir, command)] : (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((p) => path.join(p, command));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return undefined;
    } catch {
      // next
    }
  }
  return command.includes('/') ? `${path.resolve(dir, command)} is not an executable file` : `"${command}" is not on PATH`;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function waitFor(emitter: HostAgent, event: string): Promise<void> {
  return new Promise((resolve) => emitter.once(event, () => resolve()));
}

/** The agent's fatal errors, as the user's mistakes they are. */
function fatalOf(agent: HostAgent, edgeUrl: string): Promise<never> {
  const failed = new Promise<never>((_, reject) => agent.once('fatal', (err: GatewayError) => reject(fatalError(err, edgeUrl))));
  failed.catch(() => {});
  return failed;
}

export function fatalError(err: GatewayError, edgeUrl: string): UserError | GatewayError {
  if (err.code === 'UNAUTHORIZED') {
    return new UserError(`the edge at ${edgeUrl} refused the host token`, err.message, "pass one of the edge's host tokens: hostTokens in the config it was started or deployed with (mcp-gateway deploy sets HOST_TOKENS from it)");
  }
  if (/may not announce/.test(err.message)) {
    return new UserError('the edge refused one of this host\'s servers', err.message, "list the server in this token's hostTokens[].servers at the edge, or remove it (or set enabled: false) in this host's config");
  }
  if (err.code === 'PROTOCOL_MISMATCH') {
    return new UserError('the edge and this host speak different protocol versions', err.message, 'run the same version of mcp-gateway on both: update this host, or redeploy the edge (mcp-gateway deploy)');
  }
  return err;
}

/** The first connection attempt of `host` failed: why, and what to check. */
export function unreachable(err: Error & { code?: string; status?: number }, edgeUrl: string): UserError {
  const retry = 'or pass --retry to keep trying (when the host may start before the edge)';
  const url = new URL(edgeUrl);
  if (err.code === 'ECONNREFUSED') {
    return new UserError(`cannot reach the edge at ${edgeUrl}: nothing is listening there`, err.message, `start the edge (mcp-gateway edge, or deploy it), check --edge, ${retry}`);
  }
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new UserError(`cannot reach the edge at ${edgeUrl}: the name ${url.hostname} does not resolve`, err.message, `check --edge (a deployed edge is https://<worker>.<account>.workers.dev or your custom domain), ${retry}`);
  }
  if (err.status === 404) {
    return new UserError(`${edgeUrl} is not an MCP gateway edge (HTTP 404 on /agent)`, err.message, `check --edge: it is the gateway's base URL, without a path; ${retry}`);
  }
  if (err.status) {
    return new UserError(`the edge at ${edgeUrl} refused the connection (HTTP ${err.status})`, err.message, `is the Worker deployed and healthy (curl ${edgeUrl}/health)? ${retry}`);
  }
  if (/certificate|TLS|SSL/i.test(`${err.code ?? ''} ${err.message}`)) {
    return new UserError(`TLS failed with the edge at ${edgeUrl}`, err.message, `check --edge (https:// for Cloudflare, http:// for a local edge), ${retry}`);
  }
  return new UserError(`cannot connect to the edge at ${edgeUrl}`, err.message, `check --edge and the network, ${retry}`);
}
