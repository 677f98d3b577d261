/**
 * The status page's script: polls GET /status every few seconds (one request at a time, paused
 * while the tab is hidden) and renders servers, hosts, sessions and errors, and, with OAuth on,
 * the applications signed in with the page's credential (GET /oauth/grants), each revocable. Credentials: the
 * browser's own Basic authentication, or a bearer token typed into the page, kept in
 * sessionStorage and sent in the Authorization header; never in the URL.
 */
export const PAGE_SCRIPT = String.raw`
const POLL_MS = 3000;
const TOKEN_KEY = 'mcp-gateway-status-token';
let range = 'hour';
let busy = false;
let last = null;

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: 'Bearer ' + token } : {};
}

function cell(value, className) {
  const td = document.createElement('td');
  td.textContent = value === undefined || value === null ? '' : String(value);
  if (className) td.className = className;
  return td;
}

function row(cells) {
  const tr = document.createElement('tr');
  tr.append.apply(tr, cells.map(function (c) { return c instanceof Node ? c : cell(c); }));
  return tr;
}

function duration(ms) {
  if (ms < 1000) return Math.round(ms) + ' ms';
  const s = ms / 1000;
  if (s < 90) return (s < 10 ? s.toFixed(1) : Math.round(s)) + ' s';
  if (s < 5400) return Math.round(s / 60) + ' min';
  if (s < 172800) return (s / 3600).toFixed(1) + ' h';
  return Math.round(s / 86400) + ' d';
}

function timeOf(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function sum(values) {
  return values.reduce(function (a, b) { return a + b; }, 0);
}

function showSignin(message) {
  document.getElementById('signin').hidden = false;
  document.getElementById('summary').textContent = message;
}

async function refresh() {
  if (busy || document.hidden) return;
  busy = true;
  try {
    const res = await fetch('/status?history=' + range, { headers: Object.assign({ accept: 'application/json' }, authHeaders()), cache: 'no-store' });
    if (res.status === 401) {
      const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
      sessionStorage.removeItem(TOKEN_KEY);
      document.getElementById('signout').hidden = true;
      document.getElementById('basic-login').hidden = !/\bBasic\b/i.test(res.headers.get('www-authenticate') || '');
      return showSignin(hadToken ? 'That token was refused.' : 'Sign in to see the status.');
    }
    if (res.status === 403) {
      // Signed in, but not as one of auth.operators: the answer names the principal to add.
      const body = await res.json().catch(function () { return {}; });
      document.getElementById('signout').hidden = sessionStorage.getItem(TOKEN_KEY) === null;
      return showSignin((body.error && body.error.message) || 'This credential may not see the status.');
    }
    if (!res.ok) throw new Error('GET /status answered ' + res.status);
    last = await res.json();
    document.getElementById('signin').hidden = true;
    document.getElementById('signout').hidden = sessionStorage.getItem(TOKEN_KEY) === null;
    document.getElementById('error').textContent = '';
    render(last);
    await refreshGrants();
  } catch (err) {
    document.getElementById('error').textContent = String(err);
  } finally {
    busy = false;
  }
}

function render(s) {
  const win = s.history[range] || { servers: {}, hosts: {} };
  document.getElementById('summary').textContent =
    'Up ' + duration(s.edge.uptimeSeconds * 1000) + ' · ' + s.hosts.length + ' host(s), ' + s.servers.length + ' server(s), ' +
    s.sessions.rest + ' REST and ' + s.sessions.mcp + ' MCP session(s), ' + s.callsInFlight + ' call(s) in flight · updated ' + timeOf(new Date().toISOString());
  renderServers(s, win);
  renderHosts(s);
  renderSessions(s);
  renderErrors(s);
}

function renderServers(s, win) {
  const names = Array.from(new Set(s.servers.map(function (v) { return v.name; }).concat(Object.keys(win.servers)))).sort();
  document.getElementById('servers').replaceChildren.apply(document.getElementById('servers'), names.map(function (name) {
    const card = document.createElement('section');
    card.className = 'card';
    card.dataset.server = name;
    const entries = s.servers.filter(function (v) { return v.name === name; });
    const title = document.createElement('h3');
    const label = document.createElement('span');
    label.textContent = name;
    const state = document.createElement('small');
    const failing = entries.find(function (v) { return v.status === 'failing'; });
    state.className = entries.length === 0 ? 'muted' : failing ? 'failing' : 'ok';
    state.textContent = entries.length === 0 ? 'offline' : failing ? 'failing: ' + (failing.error || '') : 'ok on ' + entries.map(function (v) { return v.host; }).join(', ');
    title.append(label, state);
    card.append(title);
    const w = win.servers[name];
    const totals = document.createElement('div');
    totals.className = 'totals';
    const p = s.perServer[name];
    if (w) {
      const calls = sum(w.calls), errors = sum(w.errors);
      const codes = Object.keys(w.errorsByCode).map(function (c) { return c + ' ' + sum(w.errorsByCode[c]); }).join(', ');
      totals.textContent = calls + ' call(s), ' + errors + ' error(s)' + (codes ? ' (' + codes + ')' : '') + ' in the last ' + range +
        (p ? ' · ' + p.restProcesses + ' REST process(es), ' + p.mcpSessions + ' MCP session(s)' : '');
      card.append(totals, legend([['calls', 'calls per ' + (range === 'day' ? '15 min' : 'minute')], ['errors', 'errors']]), trafficChart(name, w, range),
        legend([['p50', 'p50 latency (ms)'], ['p95', 'p95 latency (ms)']]), latencyChart(name, w, range));
    } else {
      totals.textContent = 'No calls in the last ' + range + '.';
      card.append(totals);
    }
    return card;
  }));
}

function legend(items) {
  const div = document.createElement('div');
  div.className = 'legend';
  for (const item of items) {
    const span = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = 'var(--' + item[0] + ')';
    span.append(swatch, item[1]);
    div.append(span);
  }
  return div;
}

function renderHosts(s) {
  const ids = Array.from(new Set(s.hosts.map(function (h) { return h.id; }).concat(Object.keys(s.history.hostConnections)))).sort();
  document.querySelector('#hosts tbody').replaceChildren.apply(document.querySelector('#hosts tbody'), ids.map(function (id) {
    const h = s.hosts.find(function (x) { return x.id === id; });
    const c = s.history.hostConnections[id] || { connects: 0, drops: 0, awayMs: 0, events: [] };
    const p = s.hostProcesses[id] || { sessions: 0, pooled: 0 };
    const events = cell('', 'events');
    c.events.slice(-6).forEach(function (e, i) {
      const span = document.createElement('span');
      span.className = e.kind;
      span.dataset.kind = e.kind;
      span.dataset.at = e.at;
      span.textContent = (i ? ' · ' : '') + (e.kind === 'drop' ? 'dropped ' : 'connected ') + timeOf(e.at) +
        (e.awayMs !== undefined ? ' (away ' + duration(e.awayMs) + ')' : '') + (e.code !== undefined ? ' (code ' + e.code + ')' : '');
      events.append(span);
    });
    const tr = row([id, cell(h ? 'connected since ' + timeOf(h.connectedAt) : 'offline', h ? 'ok' : 'bad'), h ? h.servers.join(', ') : '',
      h ? p.sessions : '', h ? p.pooled : '', c.connects, c.drops, c.drops ? duration(c.awayMs) : '', events]);
    tr.dataset.host = id;
    tr.dataset.drops = c.drops;
    return tr;
  }));
}

function renderSessions(s) {
  const now = Date.now();
  document.querySelector('#sessions tbody').replaceChildren.apply(document.querySelector('#sessions tbody'), s.liveSessions.map(function (x) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'danger';
    button.textContent = 'End';
    button.addEventListener('click', function () { endSession(x.id, button); });
    const actions = cell('');
    actions.append(button);
    const tr = row([x.transport, x.principal, x.server, x.host, duration(now - Date.parse(x.createdAt)), duration(Math.max(0, now - Date.parse(x.lastActivityAt))) + ' ago', actions]);
    tr.dataset.session = x.id;
    return tr;
  }));
}

async function endSession(id, button) {
  button.disabled = true;
  try {
    const res = await fetch('/status/sessions/' + encodeURIComponent(id), { method: 'DELETE', headers: authHeaders() });
    if (!res.ok && res.status !== 404) throw new Error('ending the session answered ' + res.status);
    busy = false;
    await refresh();
  } catch (err) {
    document.getElementById('error').textContent = String(err);
    button.disabled = false;
  }
}

// OAuth grants of the credential the page is signed in with (GET /oauth/grants); 404: OAuth is off.
async function refreshGrants() {
  const res = await fetch('/oauth/grants', { headers: Object.assign({ accept: 'application/json' }, authHeaders()), cache: 'no-store' });
  const section = document.getElementById('oauth');
  section.hidden = !res.ok;
  if (!res.ok) return;
  const body = await res.json();
  document.querySelector('#grants tbody').replaceChildren.apply(document.querySelector('#grants tbody'), body.grants.map(function (g) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'danger';
    button.textContent = 'Revoke';
    button.addEventListener('click', function () { revokeGrant(g.id, button); });
    const actions = cell('');
    actions.append(button);
    const tr = row([g.clientName || '(unnamed)', g.clientId, g.scopes.join(' '), new Date(g.createdAt).toLocaleString(), g.expiresAt ? new Date(g.expiresAt).toLocaleString() : '', actions]);
    tr.dataset.grant = g.id;
    return tr;
  }));
}

async function revokeGrant(id, button) {
  button.disabled = true;
  try {
    const res = await fetch('/oauth/grants/' + encodeURIComponent(id), { method: 'DELETE', headers: authHeaders() });
    if (!res.ok && res.status !== 404) throw new Error('revoking answered ' + res.status);
    busy = false;
    await refresh();
  } catch (err) {
    document.getElementById('error').textContent = String(err);
    button.disabled = false;
  }
}

function renderErrors(s) {
  document.querySelector('#errors tbody').replaceChildren.apply(document.querySelector('#errors tbody'), s.history.recentErrors.map(function (e) {
    const tr = row([timeOf(e.at), cell(e.code, 'bad'), e.server, e.host || '', e.what]);
    tr.dataset.code = e.code;
    return tr;
  }));
}

document.getElementById('signin').addEventListener('submit', function (event) {
  event.preventDefault();
  const input = document.getElementById('token');
  if (input.value.trim()) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = '';
  refresh();
});
document.getElementById('signout').addEventListener('click', function () {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
});
for (const button of document.querySelectorAll('.switch button')) {
  button.addEventListener('click', function () {
    range = button.dataset.range;
    for (const b of document.querySelectorAll('.switch button')) b.setAttribute('aria-pressed', String(b === button));
    refresh();
  });
}
document.addEventListener('visibilitychange', refresh);
refresh();
setInterval(refresh, POLL_MS);
`;
