/**
 * What CLIENT_AUTH (and OPEN_API) make of the API: checked credentials, open on purpose, or
 * broken. Broken fails closed: every API request gets 503 and the edge logs why, once; a
 * malformed, empty or unknown-keyed CLIENT_AUTH never leaves the API open.
 */
import { ClientAuthSchema, type ClientAuth } from '../../shared/auth.ts';
import { edgeLog } from '../log.ts';

export type AuthSetup = { kind: 'checked'; auth: ClientAuth } | { kind: 'open' } | { kind: 'broken'; reason: string };

let cached: { key: string; setup: AuthSetup } | undefined;

export function authSetupOf(clientAuth: string | undefined, openApi: string | undefined): AuthSetup {
  const key = `${openApi ?? ''}\u0000${clientAuth ?? ''}`;
  if (cached?.key === key) return cached.setup;
  const setup = parseSetup(clientAuth?.trim() ?? '', openApi === '1' || openApi === 'true');
  if (setup.kind === 'broken') edgeLog('error', 'the API is closed: client auth is misconfigured', { reason: setup.reason });
  cached = { key, setup };
  return setup;
}

function parseSetup(text: string, open: boolean): AuthSetup {
  if (!text) {
    return open ? { kind: 'open' } : { kind: 'broken', reason: 'no client credentials are set (CLIENT_AUTH); set them, or OPEN_API=1 for an API anyone may call' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'broken', reason: 'CLIENT_AUTH is not valid JSON' };
  }
  const parsed = ClientAuthSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // The path and zod's message only: never the value, which may be a secret.
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    const what = issue?.code === 'unrecognized_keys' ? `unknown key "${issue.keys.join('", "')}"` : (issue?.message ?? 'invalid');
    return { kind: 'broken', reason: `CLIENT_AUTH is malformed${where}: ${what}` };
  }
  const auth = parsed.data;
  if (!auth.basic.length && !auth.bearer.length && !auth.jwt) {
    return { kind: 'broken', reason: 'CLIENT_AUTH names no credentials (basic, bearer or jwt); for an open API remove it and set OPEN_API=1' };
  }
  return { kind: 'checked', auth };
}
