/** What the CLI prints: startup reports, the config summary, and clear errors for what went wrong. */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { isEnabled } from '../shared/config.ts';
import { GatewayError } from '../shared/errors.ts';
import type { ServerInfo } from '../shared/protocol.ts';
import type { LoadedConfig } from './config.ts';
import { UserError } from './user-error.ts';

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

export function printReady(base: string, servers: readonly ServerInfo[], loaded: LoadedConfig): void {
  const lines = [`MCP gateway ready at ${base}`, configLine(loaded), `  health:   ${base}/health`, `  session:  ${base}/api/sessionid`];
  lines.push(`  OpenAPI:  ${base}/openapi.json  (docs: ${base}/docs)`);
  if (loaded.config.auth?.oauth?.enabled) {
    const issuer = (loaded.config.publicUrl ?? base).replace(/\/$/, '');
    lines.push(`  OAuth:    ${issuer}/.well-known/oauth-authorization-server  (sign-in: ${issuer}/authorize)`);
  }
  if (servers.length === 0) lines.push('  no servers: add some under `servers:` in the config file');
  lines.push(
    ...serverLines(servers, ({ name }) => [`    REST:            POST ${base}/api/${name}/{tool}`, `    Streamable HTTP: ${base}/${name}/mcp`, `    HTTP+SSE:        ${base}/${name}`]),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

export function printHostReady(hostId: string, edge: string, servers: readonly ServerInfo[], loaded: LoadedConfig): void {
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
    auth?.oauth?.enabled &&
      `OAuth sign-in (${auth.oauth.clients.length} pre-registered client${auth.oauth.clients.length === 1 ? '' : 's'}${auth.oauth.dynamicRegistration ? ', dynamic registration' : ''}${auth.oauth.upstream ? `, through ${auth.oauth.upstream.issuer}` : ''})`,
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
