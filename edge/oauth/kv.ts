/**
 * A KV-namespace-shaped view of the OAuth store, which is what the OAuth library takes as
 * `env.OAUTH_KV`. Clients registered in config are served from config (never stored), so a changed
 * secret or redirect URI applies on the next request and a removed client stops working.
 */
import type { OAuthClient } from '../../shared/oauth.ts';
import type { EdgeEnv } from '../env.ts';
import type { ListOptions, ListResult, PutOptions } from './store.ts';

type GetOptions = 'text' | 'json' | { type?: 'text' | 'json' } | undefined;

/** The part of KVNamespace the OAuth library calls. */
export interface OAuthKv {
  get(key: string, options?: GetOptions): Promise<unknown>;
  put(key: string, value: string, options?: PutOptions): Promise<void>;
  delete(key: string): Promise<void>;
  list(options?: ListOptions): Promise<ListResult>;
}

const CLIENT_PREFIX = 'client:';

/** The stored shape of a client, as the library writes it for `createClient()`. */
async function clientRecord(client: OAuthClient): Promise<Record<string, unknown>> {
  return {
    clientId: client.id,
    clientSecret: await sha256Hex(client.secret),
    redirectUris: client.redirectUris,
    clientName: client.name,
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    registrationDate: 0,
    // Actions send the secret in the body or as Basic: either is accepted.
    tokenEndpointAuthMethod: 'client_secret_basic',
  };
}

export function oauthKv(env: EdgeEnv, configured: readonly OAuthClient[]): OAuthKv {
  const stub = () => env.OAUTH_STORE.get(env.OAUTH_STORE.idFromName('oauth'));
  const configuredClient = (key: string) => (key.startsWith(CLIENT_PREFIX) ? configured.find((c) => c.id === key.slice(CLIENT_PREFIX.length)) : undefined);
  return {
    async get(key, options) {
      const type = typeof options === 'string' ? options : (options?.type ?? 'text');
      const client = configuredClient(key);
      const text = client ? JSON.stringify(await clientRecord(client)) : await stub().kvGet(key);
      if (text === null) return null;
      return type === 'json' ? JSON.parse(text) : text;
    },
    async put(key, value, options) {
      if (configuredClient(key)) return; // config is the source of these
      await stub().kvPut(key, value, options);
    },
    async delete(key) {
      if (configuredClient(key)) return;
      await stub().kvDelete(key);
    },
    async list(options) {
      return stub().kvList(options);
    },
  };
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
