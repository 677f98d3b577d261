/** JWT bearer tokens, verified with jose: HMAC secret or the issuer's JWKS (cached), iss/aud/exp/nbf checked. */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { jwtAlgorithms, principalId, type JwtAuth } from '../../shared/auth.ts';
import { edgeLog } from '../log.ts';

const keySets = new Map<string, JWTVerifyGetKey>();
const encoder = new TextEncoder();

function keyFor(jwt: JwtAuth): Uint8Array | JWTVerifyGetKey {
  if (jwt.secret) return encoder.encode(jwt.secret);
  const url = jwt.jwksUrl!;
  let keySet = keySets.get(url);
  if (!keySet) {
    // Keys are cached for 10 minutes; an unknown `kid` refetches, at most every 30 s.
    keySet = createRemoteJWKSet(new URL(url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5000 });
    keySets.set(url, keySet);
  }
  return keySet;
}

/** The token's principal (`jwt:` and a hash of issuer and `sub`), or undefined when it does not verify or has no `sub`. */
export async function verifyJwt(token: string, jwt: JwtAuth): Promise<string | undefined> {
  if (token.split('.').length !== 3) return undefined;
  try {
    const key = keyFor(jwt);
    const options = { issuer: jwt.issuer, audience: jwt.audience, algorithms: jwtAlgorithms(jwt), clockTolerance: jwt.clockToleranceSeconds, requiredClaims: ['exp'] };
    const { payload } = key instanceof Uint8Array ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    if (typeof payload.sub !== 'string' || !payload.sub) return undefined;
    return await principalId.jwt(jwt.issuer, payload.sub);
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'ERR_UNKNOWN';
    // A token that does not verify is the client's problem; keys that cannot be fetched are ours.
    if (!code.startsWith('ERR_JWT') && !code.startsWith('ERR_JWS')) {
      edgeLog('warn', 'JWT keys unavailable', { code, reason: err instanceof Error ? err.message : String(err) });
    }
    return undefined;
  }
}
