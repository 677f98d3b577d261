/**
 * `mcp-gateway oauth list|revoke`: the applications signed in to a gateway over OAuth (grants),
 * and revoking one. It asks the edge (`GET /oauth/grants`, `DELETE /oauth/grants/{id}`) once per
 * credential in config.yaml, since each principal sees only its own grants. Tokens never appear.
 */
import type { Config } from '../shared/config.ts';
import { UserError } from './user-error.ts';

export interface GrantRow {
  principal: string;
  id: string;
  clientId: string;
  clientName: string | null;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
}

/** The Authorization headers of config.yaml's credentials, each once. */
export function credentialHeaders(config: Config): string[] {
  const auth = config.auth;
  const headers: string[] = [];
  if (auth?.basic?.enabled) for (const c of auth.basic.credentials) headers.push(`Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`);
  if (auth?.bearer?.enabled) for (const t of auth.bearer.tokens) headers.push(`Bearer ${t}`);
  return headers;
}

/** The edge to ask: --edge, else publicUrl, else the local address of config.yaml. */
export function oauthEdgeUrl(config: Config, flag: string | undefined): string {
  if (flag) return flag.replace(/\/$/, '');
  if (config.publicUrl) return config.publicUrl.replace(/\/$/, '');
  if (config.port === 0) throw new UserError('which gateway?', 'config.yaml has port 0 (a free port each start) and no publicUrl', 'pass --edge <the URL mcp-gateway start printed>');
  const host = ['0.0.0.0', '::'].includes(config.hostname) ? '127.0.0.1' : config.hostname.includes(':') ? `[${config.hostname}]` : config.hostname;
  return `http://${host}:${config.port}`;
}

function needCredentials(config: Config): string[] {
  const headers = credentialHeaders(config);
  if (!config.auth?.oauth?.enabled || headers.length === 0) {
    throw new UserError('OAuth is not enabled in this config', 'mcp-gateway oauth asks the edge with the credentials of auth.basic or auth.bearer, and auth.oauth must be enabled', 'add auth.oauth.enabled: true (see docs/oauth.md), or pass --config <file> of the gateway');
  }
  return headers;
}

async function ask(edge: string, path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${edge}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new UserError(`cannot reach the gateway at ${edge}`, (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message, 'start it (mcp-gateway start), or pass --edge <its URL>');
  }
}

async function refused(res: Response, edge: string): Promise<UserError> {
  const body = await res.text().catch(() => '');
  if (res.status === 404) return new UserError(`${edge} has no OAuth (HTTP 404 on /oauth/grants)`, body.slice(0, 300), 'enable auth.oauth in the config the gateway runs with, and restart it');
  return new UserError(`the gateway at ${edge} answered HTTP ${res.status}`, body.slice(0, 300), 'check --edge and that this config.yaml holds the gateway\'s credentials');
}

export async function listGrants(config: Config, edgeFlag: string | undefined): Promise<GrantRow[]> {
  const edge = oauthEdgeUrl(config, edgeFlag);
  const rows: GrantRow[] = [];
  for (const authorization of needCredentials(config)) {
    const res = await ask(edge, '/oauth/grants', { headers: { authorization } });
    if (!res.ok) throw await refused(res, edge);
    const body = (await res.json()) as { principal: string; grants: Omit<GrantRow, 'principal'>[] };
    for (const g of body.grants) rows.push({ principal: body.principal, ...g });
  }
  return rows;
}

export async function revokeGrant(config: Config, edgeFlag: string | undefined, id: string): Promise<string> {
  const edge = oauthEdgeUrl(config, edgeFlag);
  for (const authorization of needCredentials(config)) {
    const res = await ask(edge, `/oauth/grants/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { authorization } });
    if (res.status === 204) return id;
    if (res.status !== 404) throw await refused(res, edge);
  }
  throw new UserError(`no grant ${id}`, 'none of the credentials in this config.yaml holds a grant with that id', 'run mcp-gateway oauth list to see the grants');
}

export function formatGrants(rows: GrantRow[]): string {
  if (rows.length === 0) return 'no applications are signed in over OAuth\n';
  const lines = rows.map((g) => `${g.id}  ${g.clientName ?? '(unnamed)'}  (client ${g.clientId}; ${g.principal}; ${g.scopes.join(' ')}; since ${g.createdAt}${g.expiresAt ? `, until ${g.expiresAt}` : ''})`);
  return `${lines.join('\n')}\n`;
}
