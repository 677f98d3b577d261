/** The Worker's HTTP surface: one Hono app, errors mapped to responses in one place. */
import { Hono } from 'hono';
import { errorResponse, GatewayError, jsonRpcErrorResponse } from '../shared/errors.ts';
import type { EdgeEnv } from './env.ts';
import { edgeLog } from './log.ts';
import { clientAuth } from './middleware/auth.ts';
import { checkOrigin } from './middleware/origin.ts';
import { corsHeaders } from './middleware/cors.ts';
import { mcpRoutes } from './routes/mcp.ts';
import { docsRoutes } from './routes/docs.ts';
import { openapiRoutes } from './routes/openapi.ts';
import { statusRoutes } from './routes/status.ts';
import { agentRoute } from './routes/agent.ts';
import { healthRoute } from './routes/health.ts';
import { restRoutes } from './routes/rest.ts';
import { grantRoutes } from './oauth/grants.ts';
import { oauthRoutes } from './oauth/routes.ts';

export type AppEnv = { Bindings: EdgeEnv; Variables: { principal: string } };

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', corsHeaders);
  app.route('/', healthRoute);
  app.route('/', agentRoute);
  app.use('*', checkOrigin);
  app.route('/', oauthRoutes);
  app.use('*', clientAuth);
  app.route('/', grantRoutes);
  app.route('/', openapiRoutes);
  app.route('/', docsRoutes);
  app.route('/', statusRoutes);
  app.route('/api', restRoutes);
  app.route('/', mcpRoutes);

  app.notFound(() => errorResponse(new GatewayError('NOT_FOUND', 'no such route')));
  app.onError((err, c) => {
    const error = err instanceof GatewayError ? err : new GatewayError('INTERNAL', 'internal error');
    if (!(err instanceof GatewayError)) edgeLog('error', 'unhandled error', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return c.req.path.startsWith('/api/') ? errorResponse(error) : jsonRpcErrorResponse(error);
  });
  return app;
}
