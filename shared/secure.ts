/** Secret handling that behaves the same on workerd and Node (WebCrypto only). */

const encoder = new TextEncoder();

/**
 * Constant-time string comparison: both sides are hashed first, so neither the content nor the
 * length of the secret leaks through timing.
 */
export async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** True when `given` equals any of `candidates`; every candidate is compared, always. */
export async function matchesAnySecret(given: string, candidates: readonly string[]): Promise<boolean> {
  const results = await Promise.all(candidates.map((c) => secretsEqual(given, c)));
  return results.includes(true);
}

/** An unguessable id: 128 random bits as 32 hex characters. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/**
 * A stable, non-reversible name for a credential (a principal, a host token's identity): the
 * first 96 bits of SHA-256 over a domain label and the secret, as hex. Safe in logs and headers.
 */
export async function credentialId(domain: string, secret: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(`${domain}\u0000${secret}`)));
  let out = '';
  for (const byte of digest.subarray(0, 12)) out += byte.toString(16).padStart(2, '0');
  return out;
}
