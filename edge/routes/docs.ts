/** The API docs page: Swagger UI from the swagger-ui-dist package, served by the edge itself (no CDN). */
import { Hono } from 'hono';
import swaggerBundle from 'swagger-ui-dist/swagger-ui-bundle.js';
import swaggerCss from 'swagger-ui-dist/swagger-ui.css';
import type { AppEnv } from '../app.ts';
import { errorsAs } from '../error-response.ts';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MCP gateway API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: new URL('/openapi.json', location.href).toString(),
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: true,
  persistAuthorization: true,
});
`;

const page = errorsAs('text');
const CACHE = { 'cache-control': 'public, max-age=86400' };

export const docsRoutes = new Hono<AppEnv>()
  .get('/docs', page, (c) => c.html(PAGE))
  .get('/docs/init.js', page, (c) => c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
  .get('/docs/swagger-ui-bundle.js', page, (c) => c.body(swaggerBundle, 200, { 'content-type': 'text/javascript; charset=utf-8', ...CACHE }))
  .get('/docs/swagger-ui.css', page, (c) => c.body(swaggerCss, 200, { 'content-type': 'text/css; charset=utf-8', ...CACHE }));
