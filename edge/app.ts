/** The Worker's HTTP surface: one Hono app; errors become responses in one place, shaped as each route declares. */
import { Hono } from 'hono';
import { GatewayError } from '../shared/errors.ts';
import { directMcpPost } from './direct-mcp-post.ts';
import { errorResponseAs, errorShapeOf, thrownResponseAs } from './error-response.ts';
import type { EdgeEnv } from './env.ts';
import { clientAuth } from './middleware/auth.ts';
import { checkOrigin } from './middleware/origin.ts';
import { corsHeaders } from './middleware/cors.ts';
import { checkInput } from './middleware/input.ts';
import { mcpRoutes } from './routes/mcp.ts';
import { docsRoutes } from './routes/docs.ts';
import { openapiRoutes } from './routes/openapi.ts';
import { statusPageRoute, statusRoutes } from './routes/status.ts';
import { agentRoute } from './routes/agent.ts';
import { healthRoute } from './routes/health.ts';
import { restRoutes } from './routes/rest.ts';
import { grantRoutes } from './oauth/grants.ts';
import { oauthRoutes } from './oauth/routes.ts';

export type AppEnv = { Bindings: EdgeEnv; Variables: { principal: string } };

export interface AppOptions {
  /** false: every request through Hono's router and middleware chain (the tests compare the two ways). */
  directDispatch?: boolean;
}

export function createApp(options: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', corsHeaders, checkInput);
  app.route('/', healthRoute);
  app.route('/', agentRoute);
  app.route('/', statusPageRoute);
  app.use('*', checkOrigin);
  app.route('/', oauthRoutes);
  app.use('*', clientAuth);
  app.route('/', grantRoutes);
  app.route('/', openapiRoutes);
  app.route('/', docsRoutes);
  app.route('/', statusRoutes);
  app.route('/api', restRoutes);
  app.route('/', mcpRoutes);

  app.notFound((c) => errorResponseAs(errorShapeOf(c), new GatewayError('NOT_FOUND', 'no such route')));
  app.onError((err, c) => thrownResponseAs(errorShapeOf(c), err));
  if (options.directDispatch === false) return app;
  // The hot request ahead of the router and middleware chain, when all their checks certainly pass (direct-mcp-post.ts).
  const viaHono = app.fetch;
  app.fetch = (request, env, executionCtx) => directMcpPost(request, env as EdgeEnv | undefined) ?? viaHono(request, env, executionCtx);
  return app;
}
