/**
 * Test helpers for OAuth: an OAuthClientProvider for the MCP SDK that signs in on the gateway's
 * own /authorize page with fetch (as a browser without JavaScript would: GET the page, POST its
 * form), and that small form driver on its own.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export interface SignIn {
  username?: string;
  password?: string;
  token?: string;
  action?: 'allow' | 'deny';
}

export interface PageResult {
  /** Where the page sent the browser (the client's redirect URI with code or error), if it did. */
  location?: URL;
  status: number;
  html: string;
}

/** The value of the form's hidden `request` field. */
function hiddenRequest(html: string): string {
  const match = html.match(/name="request" value="([^"]*)"/);
  if (!match) throw new Error(`no sign-in form on the page:\n${html.slice(0, 500)}`);
  return match[1]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Opens the authorization URL and submits the sign-in form. */
export async function signInOnPage(authorizationUrl: URL, signIn: SignIn): Promise<PageResult> {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  const html = await page.text();
  if (page.status >= 300 && page.status < 400) return { status: page.status, html, location: new URL(page.headers.get('location')!) };
  if (page.status !== 200) return { status: page.status, html };
  const form = new URLSearchParams({ request: hiddenRequest(html), action: signIn.action ?? 'allow' });
  if (signIn.username !== undefined) form.set('username', signIn.username);
  if (signIn.password !== undefined) form.set('password', signIn.password);
  if (signIn.token !== undefined) form.set('token', signIn.token);
  const res = await fetch(new URL('/authorize', authorizationUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: authorizationUrl.origin },
    body: form,
  });
  const location = res.headers.get('location');
  return { status: res.status, html: await res.text(), ...(location ? { location: new URL(location) } : {}) };
}

/** An SDK OAuth client that keeps everything in memory and signs in with `signIn`. */
export class TestOAuthProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  savedTokens?: OAuthTokens;
  verifier = '';
  /** The last page result, and the code it carried. */
  last?: PageResult;
  code?: string;
  readonly redirect: string;
  readonly signIn: SignIn;

  constructor(signIn: SignIn, redirect = 'http://127.0.0.1:9/callback') {
    this.signIn = signIn;
    this.redirect = redirect;
  }

  get redirectUrl(): string {
    return this.redirect;
  }

  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'Gateway test client', redirect_uris: [this.redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }

  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.last = await signInOnPage(url, this.signIn);
    this.code = this.last.location?.searchParams.get('code') ?? undefined;
  }
}
