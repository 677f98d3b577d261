/**
 * The sign-in and consent page of /authorize: plain HTML and one form, no script, nothing loaded
 * from elsewhere. The owner signs in with a configured credential (a Basic user and password, or a
 * bearer token) and approves the client named on the page, which is sent back to the redirect URI
 * shown.
 */

export interface ConsentPage {
  clientName: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  /** The authorization request's query string, carried through the form unchanged. */
  request: string;
  /** Whether Basic users exist (username and password fields) and bearer tokens (a token field). */
  basic: boolean;
  bearer: boolean;
  /** The upstream OpenID Connect provider one may sign in with instead (auth.oauth.upstream). */
  upstreamName?: string;
  /** Shown above the form after a failed sign-in. */
  error?: string;
}

/** Security headers for every page /authorize serves: no framing, no script, no caching. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on the form's POST.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}dl{background:#f4f4f4;padding:.75rem 1rem;border-radius:6px}dt{font-weight:600}dd{margin:0 0 .5rem;word-break:break-all}
label{display:block;margin:.75rem 0 .25rem}input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}
.error{background:#fde8e8;color:#8a1c1c;padding:.5rem 1rem;border-radius:6px}.buttons{margin-top:1.25rem;display:flex;gap:.75rem}
button{padding:.5rem 1.25rem;font-size:1rem}p.or{margin:.75rem 0 0;color:#666}`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

export function consentPage(page: ConsentPage): string {
  const fields: string[] = [];
  if (page.basic) {
    fields.push(`<label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username" maxlength="256">`);
    fields.push(`<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" maxlength="1024">`);
  }
  if (page.basic && page.bearer) fields.push('<p class="or">or</p>');
  if (page.bearer) fields.push(`<label for="token">Access token</label><input id="token" name="token" type="password" autocomplete="off" maxlength="4096">`);
  const upstream = page.upstreamName
    ? `<p class="or">${page.basic || page.bearer ? 'or' : ''}</p><button type="submit" name="action" value="upstream">Sign in with ${escapeHtml(page.upstreamName)} and allow</button>`
    : '';
  const body = `<h1>Allow ${escapeHtml(page.clientName)} to use this MCP gateway?</h1>
${page.error ? `<p class="error" role="alert">${escapeHtml(page.error)}</p>` : ''}
<dl><dt>Application</dt><dd>${escapeHtml(page.clientName)} <small>(${escapeHtml(page.clientId)})</small></dd>
<dt>Will be sent back to</dt><dd>${escapeHtml(page.redirectUri)}</dd>
<dt>Access</dt><dd>${page.scopes.map(escapeHtml).join(', ')}</dd></dl>
<form method="post" action="/authorize">
<input type="hidden" name="request" value="${escapeHtml(page.request)}">
${fields.join('\n')}
<div class="buttons">${fields.length ? '<button type="submit" name="action" value="allow">Sign in and allow</button>' : ''}<button type="submit" name="action" value="deny">Deny</button></div>
${upstream}
</form>
<p><small>Sign in with one of this gateway's credentials. The application gets a token of its own, never your password or token.</small></p>`;
  return layout('Sign in: MCP gateway', body);
}

export function errorPage(title: string, detail: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p><p>Nothing was approved. Go back to the application and try connecting again.</p>`);
}
