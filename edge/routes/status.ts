/** /status (credentials required): hosts, servers, sessions, processes, calls; and a page showing it. */
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';
import { hubStub } from '../hub/stub.ts';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MCP gateway status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
  table { border-collapse: collapse; min-width: 40rem; }
  th, td { text-align: left; padding: .3rem .8rem; border-bottom: 1px solid #d8dee4; }
  .failing { color: #b42318; font-weight: 600; } .ok { color: #1a7f37; }
  #error { color: #b42318; }
</style>
</head>
<body>
<h1>MCP gateway status</h1>
<p id="summary">Loading…</p>
<p id="error"></p>
<h2>Hosts</h2>
<table id="hosts"><thead><tr><th>host</th><th>connected since</th><th>servers</th><th>session processes</th><th>pooled</th></tr></thead><tbody></tbody></table>
<h2>Servers</h2>
<table id="servers"><thead><tr><th>server</th><th>host</th><th>status</th><th>tools</th><th>calls</th><th>errors</th><th>REST processes</th><th>MCP sessions</th></tr></thead><tbody></tbody></table>
<script src="/status/page.js"></script>
</body>
</html>
`;

const SCRIPT = `function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement('td');
    if (cell && typeof cell === 'object') { td.textContent = cell.text; td.className = cell.className; } else td.textContent = String(cell);
    tr.append(td);
  }
  return tr;
}
async function refresh() {
  try {
    const res = await fetch('/status', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error('GET /status answered ' + res.status);
    const s = await res.json();
    document.getElementById('error').textContent = '';
    document.getElementById('summary').textContent =
      'Up ' + s.edge.uptimeSeconds + ' s; ' + s.hosts.length + ' host(s), ' + s.servers.length + ' server(s), ' +
      s.sessions.rest + ' REST session(s), ' + s.sessions.mcp + ' MCP session(s).';
    document.querySelector('#hosts tbody').replaceChildren(...s.hosts.map((h) => {
      const p = s.hostProcesses[h.id] || { sessions: 0, pooled: 0 };
      return row([h.id, h.connectedAt, h.servers.join(', '), p.sessions, p.pooled]);
    }));
    document.querySelector('#servers tbody').replaceChildren(...s.servers.map((v) => {
      const c = s.perServer[v.name] || { calls: 0, errors: 0, restProcesses: 0, mcpSessions: 0 };
      return row([v.name, v.host, { text: v.status + (v.error ? ': ' + v.error : ''), className: v.status }, v.tools, c.calls, c.errors, c.restProcesses, c.mcpSessions]);
    }));
  } catch (err) {
    document.getElementById('error').textContent = String(err);
  }
}
refresh();
setInterval(refresh, 5000);
`;

export const statusRoutes = new Hono<AppEnv>()
  .get('/status', errorsAs('rest'), async (c) => c.json(await hubStub(c.env).status()))
  .get('/status/page', errorsAs('text'), (c) => c.html(PAGE))
  .get('/status/page.js', errorsAs('text'), (c) => c.body(SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
