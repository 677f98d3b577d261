/** The Worker's HTTP surface: one Hono app; errors become responses in one place, shaped as each route declares. */
import { Hono } from 'hono';
import { GatewayError } from '../shared/errors.ts';
import { errorResponseAs, errorShapeOf } from './error-response.ts';
import type { EdgeEnv } from './env.ts';
import { edgeLog } from './log.ts';
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

export function createApp(): Hono<AppEnv> {
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
  app.onError((err, c) => {
    const error = err instanceof GatewayError ? err : new GatewayError('INTERNAL', 'internal error');
    if (!(err instanceof GatewayError)) edgeLog('error', 'unhandled error', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return errorResponseAs(errorShapeOf(c), error);
  });
  return app;
}
