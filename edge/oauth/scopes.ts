/** Which server a route belongs to, and which scopes a sign-in grants (runtime-neutral). */
import { NAME_PATTERN, RESERVED_NAMES } from '../../shared/constants.ts';
import { SCOPE_ALL, SCOPE_OFFLINE, scopeServer, type OAuthClient } from '../../shared/oauth.ts';

/**
 * The server a route belongs to: `/api/{server}/…`, `/{server}/mcp`, `/{server}`; undefined for
 * the gateway's own routes (and for names no server can have, which end in 404 anyway).
 */
export function routeServer(path: string): string | undefined {
  const [first, second] = path.split('/').filter(Boolean);
  const name = first === 'api' ? second : first;
  if (!name || !NAME_PATTERN.test(name) || RESERVED_NAMES.has(name.toLowerCase())) return undefined;
  return name === 'sessionid' && first === 'api' ? undefined : name;
}

/** The scopes to grant: those asked for that exist here (`mcp` when none), within the client's allowance. */
export function grantedScopes(requested: readonly string[], client: OAuthClient | undefined): string[] {
  let scopes = requested.filter((s) => s === SCOPE_ALL || s === SCOPE_OFFLINE || scopeServer(s) !== undefined);
  if (!scopes.some((s) => s !== SCOPE_OFFLINE)) scopes.push(SCOPE_ALL);
  if (client?.scopes) scopes = scopes.filter((s) => s === SCOPE_OFFLINE || client.scopes!.includes(s));
  return [...new Set(scopes)];
}
