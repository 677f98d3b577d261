/**
 * RFC 8707 resource indicators. The gateway is one protected resource, its origin; clients name it
 * in many ways (`https://gw.example/everything/mcp`, `https://gw.example/`), as the per-path
 * protected-resource metadata lets them. Every URL on this gateway's origin is mapped to the
 * origin before the OAuth library sees it; any other value stays as sent, and is refused.
 */

export function canonicalResource(value: string, issuer: string): string {
  try {
    const url = new URL(value);
    if (url.origin === issuer && !url.hash && !url.username && !url.password) return issuer;
  } catch {
    // not a URL: the library refuses it
  }
  return value;
}

/** The same parameters with every `resource` mapped (a copy). */
export function canonicalResourceParams(params: URLSearchParams, issuer: string): URLSearchParams {
  const out = new URLSearchParams();
  for (const [key, value] of params) out.append(key, key === 'resource' ? canonicalResource(value, issuer) : value);
  return out;
}
