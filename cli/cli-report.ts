/** What the CLI prints: startup reports, the config summary, and clear errors for what went wrong. */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { isEnabled } from '../shared/config.ts';
import type { ErrorCode, GatewayError } from '../shared/errors.ts';
import type { ServerInfo } from '../shared/protocol.ts';
import type { LoadedConfig } from './config.ts';
import type { CredentialPrincipal } from './edge-secrets.ts';
import type { StartCause } from '../host/start-failure.ts';
import { UserError } from './user-error.ts';

/** How to fix a server that failed to start, by the cause of the failure. */
export function startFailureHint(server: string, why: StartCause | undefined): string {
  const key = `servers.${server}`;
  switch (why) {
    case 'not-found':
      return `the command was not found: install it, or fix ${key}.command (a program on PATH, or a path from the config file's folder)`;
    case 'not-executable':
      return `the command is not executable: chmod +x it, or fix ${key}.command`;
    case 'exited':
      return `the server exited while starting; its stderr (in the error) says why: check ${key}.args and ${key}.env`;
    case 'no-initialize':
      return `it did not answer MCP's initialize: is it an MCP server on STDIO? (debug.level: debug logs its stderr)`;
    default:
      return `run the command by hand to see why, or set debug.level: debug to log its stderr`;
  }
}

/** Why a server failed to start, by name (the host agent's `startFailure`). */
export type StartCauses = (server: string) => StartCause | undefined;

function serverLines(servers: readonly ServerInfo[], causes: StartCauses, describe: (s: ServerInfo) => string[]): string[] {
  const lines: string[] = [];
  for (const server of servers) {
    if (server.error) {
      lines.push(`  ${server.name}: FAILED to start (announced with no tools)`, `    error: ${server.error}`, `    fix:   ${startFailureHint(server.name, causes(server.name))}`);
    } else {
      lines.push(`  ${server.name} (${server.tools.length} tool${server.tools.length === 1 ? '' : 's'}):`, ...describe(server));
    }
  }
  return lines;
}

function configLine(loaded: LoadedConfig): string {
  return `  config:   ${loaded.file}${loaded.format === 'claude-desktop' ? ' (a Claude Desktop config)' : ''}`;
}

export function printReady(base: string, servers: readonly ServerInfo[], causes: StartCauses, loaded: LoadedConfig): void {
  const lines = [`MCP gateway ready at ${base}`, configLine(loaded), `  health:   ${base}/health`, `  session:  ${base}/api/sessionid`];
  lines.push(`  OpenAPI:  ${base}/openapi.json  (docs: ${base}/docs)`);
  if (loaded.config.auth?.oauth?.enabled) {
    const issuer = (loaded.config.publicUrl ?? base).replace(/\/$/, '');
    lines.push(`  OAuth:    ${issuer}/.well-known/oauth-authorization-server  (sign-in: ${issuer}/authorize)`);
  }
  if (servers.length === 0) lines.push('  no servers: add some under `servers:` in the config file');
  lines.push(
    ...serverLines(servers, causes, ({ name }) => [`    REST:            POST ${base}/api/${name}/{tool}`, `    Streamable HTTP: ${base}/${name}/mcp`, `    HTTP+SSE:        ${base}/${name}`]),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

export function printHostReady(hostId: string, edge: string, servers: readonly ServerInfo[], causes: StartCauses, loaded: LoadedConfig): void {
  const lines = [`host ${hostId} connected to ${edge}`, configLine(loaded)];
  if (servers.length === 0) lines.push('  no servers: add some under `servers:` in the config file');
  lines.push(...serverLines(servers, causes, ({ name }) => [`    ${edge}/${name}/mcp`]));
  process.stdout.write(lines.join('\n') + '\n');
}

/** The summary `config check` prints. */
export function configSummary(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env, principals: readonly CredentialPrincipal[] = []): string {
  const { config, file, dir } = loaded;
  const lines = [`${file}: valid${loaded.format === 'claude-desktop' ? ' (a Claude Desktop config: its mcpServers; every other setting takes its default)' : ''}`];
  lines.push(`  local edge (mcp-gateway start): http://${config.hostname}:${config.port === 0 ? '<a free port>' : config.port}`);
  if (config.publicUrl) lines.push(`  public URL: ${config.publicUrl}`);
  const auth = config.auth;
  const methods = [
    auth?.basic?.enabled && `basic (${auth.basic.credentials.length} credential${auth.basic.credentials.length === 1 ? '' : 's'})`,
    auth?.bearer?.enabled && `bearer (${auth.bearer.tokens.length} token${auth.bearer.tokens.length === 1 ? '' : 's'})`,
    auth?.jwt?.enabled && `JWT (issuer ${auth.jwt.issuer})`,
    auth?.oauth?.enabled &&
      `OAuth sign-in (${auth.oauth.clients.length} pre-registered client${auth.oauth.clients.length === 1 ? '' : 's'}${auth.oauth.dynamicRegistration ? ', dynamic registration' : ''}${auth.oauth.upstream ? `, through ${auth.oauth.upstream.issuer}` : ''})`,
  ].filter(Boolean);
  lines.push(`  auth: ${methods.length ? methods.join(', ') : 'none: anyone who can reach the edge can call every tool'}`);
  if (principals.length) lines.push('  principals (the ids auth.operators lists):', ...principals.map((p) => `    ${p.label}: ${p.id}`));
  if (auth) {
    const operators = auth.operators ?? [];
    const named = operators.map((id) => principals.find((p) => p.id === id)?.label ?? id);
    lines.push(`  /status: ${operators.length ? `operators only (${named.join(', ')})` : 'every credential (list auth.operators to narrow it)'}`);
  }
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


/** What the user is told when the edge refuses this host for good, by error code. */
const REFUSALS: Partial<Record<ErrorCode, (edgeUrl: string) => { message: string; fix: string }>> = {
  UNAUTHORIZED: (edgeUrl) => ({
    message: `the edge at ${edgeUrl} refused the host token`,
    fix: "pass one of the edge's host tokens: hostTokens in the config it was started or deployed with (mcp-gateway deploy sets HOST_TOKENS from it)",
  }),
  FORBIDDEN: () => ({
    message: "the edge refused one of this host's servers",
    fix: "list the server in this token's hostTokens[].servers at the edge, or remove it (or set enabled: false) in this host's config",
  }),
  PROTOCOL_MISMATCH: () => ({
    message: 'the edge and this host speak different protocol versions',
    fix: 'run the same version of mcp-gateway on both: update this host, or redeploy the edge (mcp-gateway deploy)',
  }),
  BAD_HELLO: () => ({
    message: "the edge refused this host's hello",
    fix: 'run the same version of mcp-gateway on both; if they match, this is a bug: report it with the detail above',
  }),
};

export function fatalError(err: GatewayError, edgeUrl: string): UserError | GatewayError {
  const refusal = REFUSALS[err.code]?.(edgeUrl);
  return refusal ? new UserError(refusal.message, err.message, refusal.fix) : err;
}

/** The local edge cannot listen where the config says: why (by the system error's code), and what to do. */
export function listenError(err: NodeJS.ErrnoException, hostname: string, port: number): UserError | Error {
  switch (err.code) {
    case 'EADDRINUSE':
      return new UserError(`port ${port} on ${hostname} is already in use`, err.message, 'stop whatever uses it (another mcp-gateway?), or set another `port` in config.yaml (0 picks a free one)');
    case 'EACCES':
      return new UserError(`not allowed to listen on port ${port}`, err.message, 'use a port above 1023 in config.yaml (0 picks a free one)');
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UserError(`cannot listen on ${hostname}`, err.message, 'set `hostname` in config.yaml to an address of this machine (127.0.0.1, or 0.0.0.0 for every interface)');
    default:
      return err;
  }
}

/** Node's codes for a TLS handshake that failed (certificates, protocol), as opposed to the network. */
const TLS_ERROR_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_(GET|VERIFY)_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|EPROTO$)/;

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
  if (err.code && TLS_ERROR_CODE.test(err.code)) {
    return new UserError(`TLS failed with the edge at ${edgeUrl}`, err.message, `check --edge (https:// for Cloudflare, http:// for a local edge), ${retry}`);
  }
  return new UserError(`cannot connect to the edge at ${edgeUrl}`, err.message, `check --edge and the network, ${retry}`);
}
