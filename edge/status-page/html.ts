/**
 * The status page: one HTML document with its CSS and script inline (no CDN, nothing else to
 * fetch but /status). It renders only through textContent and SVG attributes, never HTML built
 * from data.
 */
import { CHARTS_SCRIPT } from './charts.ts';
import { PAGE_SCRIPT } from './script.ts';
import { STYLE } from './style.ts';

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>MCP gateway status</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>MCP gateway status</h1>
  <div class="switch" role="group" aria-label="time range">
    <button type="button" id="range-hour" data-range="hour" aria-pressed="true">Last hour</button>
    <button type="button" id="range-day" data-range="day" aria-pressed="false">Last day</button>
  </div>
  <button type="button" id="signout" hidden>Forget token</button>
</header>
<main>
  <form id="signin" hidden>
    <span>Credentials are needed to see this gateway's status.</span>
    <input id="token" type="password" autocomplete="off" placeholder="Bearer token" aria-label="Bearer token">
    <button type="submit">Use token</button>
    <a id="basic-login" href="/status?login" hidden>Sign in with a username and password</a>
  </form>
  <p id="summary" class="muted">Loading…</p>
  <p id="error" role="alert"></p>
  <h2>Servers</h2>
  <div id="servers" class="cards"></div>
  <h2>Hosts</h2>
  <div class="table"><table id="hosts"><thead><tr><th>host</th><th>state</th><th>servers</th><th>session processes</th><th>spares</th><th>connects</th><th>drops</th><th>time away</th><th>recent connections</th></tr></thead><tbody></tbody></table></div>
  <h2>Live sessions</h2>
  <div class="table"><table id="sessions"><thead><tr><th>transport</th><th>principal</th><th>server</th><th>host</th><th>age</th><th>last activity</th><th></th></tr></thead><tbody></tbody></table></div>
  <h2>Recent errors</h2>
  <div class="table"><table id="errors"><thead><tr><th>when</th><th>code</th><th>server</th><th>host</th><th>what</th></tr></thead><tbody></tbody></table></div>
  <section id="oauth" hidden>
    <h2>Applications signed in with your credential (OAuth)</h2>
    <div class="table"><table id="grants"><thead><tr><th>application</th><th>client id</th><th>scopes</th><th>since</th><th>until</th><th></th></tr></thead><tbody></tbody></table></div>
  </section>
</main>
<script>
${CHARTS_SCRIPT}
${PAGE_SCRIPT}
</script>
</body>
</html>
`;
