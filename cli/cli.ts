/**
 * The command line: `start` (edge and host together), `edge`, `host`, `schema`, `config check`,
 * `deploy`. Parses, runs, and returns a stop function for the long-running commands. A mistake
 * the user can fix is a UserError (one line, the detail, the fix), never a stack trace.
 */
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { NAME_PATTERN } from '../shared/constants.ts';
import type { Config } from '../shared/config.ts';
import { GatewayError } from '../shared/errors.ts';
import { randomId } from '../shared/secure.ts';
import type { HostAgent } from '../host/agent.ts';
import { defaultConfigPath, loadConfig, type LoadedConfig } from './config.ts';
import { edgeVars } from './deploy.ts';
import { listenError } from './cli-report.ts';
import { clientAuthBinding, configSecrets, credentialPrincipals, hostTokensBinding, oauthBinding } from './edge-secrets.ts';
import { checkAddress, startLocalEdge } from '../local/local-edge.ts';
import { Logger, type LoggerOptions } from '../host/logger.ts';
import { UserError } from './user-error.ts';
import { HostTokenSchema } from '../shared/auth.ts';
import { commandHelp, HELP, knownCommand, parseCliArgs, requireOption, unexpected, unknownCommand, VERSION } from './cli-args.ts';
import { configSummary, fatalError, printHostReady, printReady, startFailureHint, unreachable } from './cli-report.ts';

export { clientAuthBinding, hostTokensBinding };
export { configSummary, fatalError, startFailureHint, unreachable };
export { commandHelp, HELP, VERSION };

export interface Running {
  stop(): Promise<void>;
  /** Settles when the command cannot go on (a fatal error after start). */
  failed: Promise<never>;
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
  // After `--`: wrangler's arguments (deploy), or a grant id that starts with `-` (oauth revoke).
  if (passThrough.length && command !== 'deploy' && command !== 'oauth') unexpected(passThrough[0]!, command);
  const configFile = path.resolve(values.config ?? defaultConfigPath(env));

  switch (command) {
    case 'start': {
      if (rest.length) unexpected(rest[0]!, command);
      const loaded = loadConfig(configFile, env);
      const { config, dir } = loaded;
      const logger = loggerFor(config, loaded);
      const token = randomId();
      logger.addSecret(token);
      const edge = await startEdge(config, token, logger, values.state, Boolean(values.open));
      const edgeUrl = edge.url.toString().replace(/\/$/, '');
      const { HostAgent, ConfigWatcher } = await hostModules();
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
      printReady(edgeUrl, agent.servers, (name) => agent.startFailure(name), loaded);
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
      // The edge would refuse every host with a token its schema refuses (a 503 at /agent): say so now.
      const tokenProblem = token === undefined ? undefined : HostTokenSchema.shape.token.safeParse(token).error?.issues[0]?.message;
      if (tokenProblem) throw new UserError(`the host token is too weak: ${tokenProblem}`, 'host agents could not connect with it', 'pass a longer --token (for example the output of `openssl rand -hex 24`)');
      const logger = loggerFor(config);
      if (token) logger.addSecret(token);
      const edge = await startEdge(config, token, logger, values.state, Boolean(values.open));
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
      const { HostAgent, ConfigWatcher } = await hostModules();
      const agent = new HostAgent({ edgeUrl, token, hostId, config, baseDir: dir, logger });
      let connected = false;
      agent.on('welcome', () => {
        if (connected) return;
        connected = true;
        printHostReady(hostId, edgeUrl, agent.servers, (name) => agent.startFailure(name), loaded);
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
      process.stdout.write(configSummary(loaded, env, await credentialPrincipals(loaded.config)));
      return undefined;
    }
    case 'oauth': {
      const [sub, id, extra] = [...rest, ...passThrough];
      if (sub !== 'list' && sub !== 'revoke') {
        throw new UserError(sub ? `unknown oauth command "${sub}"` : 'oauth needs a command', 'oauth commands: list, revoke <grant-id>', 'run mcp-gateway oauth list');
      }
      if (sub === 'list' && id) unexpected(id, 'oauth');
      if (sub === 'revoke' && !id) throw new UserError('oauth revoke needs a grant id', 'the ids are the first column of mcp-gateway oauth list', 'run mcp-gateway oauth list, then mcp-gateway oauth revoke <grant-id>');
      if (extra) unexpected(extra, 'oauth');
      const { config } = loadConfig(configFile, env);
      const { formatGrants, listGrants, revokeGrant } = await import('./oauth-cli.ts');
      if (sub === 'list') process.stdout.write(formatGrants(await listGrants(config, values.edge)));
      else process.stdout.write(`revoked ${await revokeGrant(config, values.edge, id!)}: its tokens no longer work\n`);
      return undefined;
    }
    case 'deploy': {
      if (rest.length) unexpected(rest[0]!, command);
      if (values.outdir && !values['dry-run']) throw new UserError('--outdir only goes with --dry-run', 'a real deploy uploads the bundle instead of writing it', 'add --dry-run, or drop --outdir');
      const { config } = loadConfig(configFile, env);
      const { deploy } = await import('./deploy.ts');
      await deploy({ config, dryRun: Boolean(values['dry-run']), outdir: values.outdir, open: Boolean(values.open), wranglerArgs: passThrough });
      return undefined;
    }
    default:
      throw unknownCommand(command);
  }
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


/** Whether the edge would listen on this machine only. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

async function startEdge(config: Config, hostToken: string | undefined, logger: Logger, stateDir: string | undefined, open: boolean) {
  const bindings: Record<string, string> = {
    HOST_TOKENS: hostTokensBinding(config, hostToken),
    ...edgeVars(config),
    ALLOWED_HOSTS: [...allowedHosts(config.hostname), ...(config.publicUrl ? [new URL(config.publicUrl).hostname] : [])].join(','),
  };
  const auth = clientAuthBinding(config);
  if (auth) bindings.CLIENT_AUTH = auth;
  else {
    if (!open && !isLoopback(config.hostname)) {
      throw new UserError(
        `config.yaml has no auth, and hostname ${config.hostname} is reachable from other machines`,
        'anyone who can reach this port could call your tools',
        'add an auth section (bearer tokens, basic credentials or JWT; see README.md), listen on 127.0.0.1, or pass --open to serve an open API on purpose',
      );
    }
    bindings.OPEN_API = '1';
  }
  const oauth = oauthBinding(config);
  if (oauth) bindings.OAUTH = oauth;
  await checkAddress(config.hostname, config.port).catch((err: NodeJS.ErrnoException) => {
    throw listenError(err, config.hostname, config.port);
  });
  try {
    return await startLocalEdge({ hostname: config.hostname, port: config.port, bindings, stateDir });
  } catch (err) {
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
  const [{ ServerSet }, { buildOpenApi }] = await Promise.all([import('../host/servers.ts'), import('../shared/openapi.ts')]);
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

/**
 * The host agent's modules, loaded only by the commands that run one: `mcp-gateway edge` alone
 * then holds none of them (about 23 MiB less resident memory).
 */
async function hostModules() {
  const [{ HostAgent }, { ConfigWatcher }] = await Promise.all([import('../host/agent.ts'), import('./reload.ts')]);
  return { HostAgent, ConfigWatcher };
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
