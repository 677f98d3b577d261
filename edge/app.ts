/** The Worker's HTTP surface: one Hono app, errors mapped to responses in one place. */
import { Hono } from 'hono';
import { errorResponse, GatewayError } from '../shared/errors.ts';
import type { EdgeEnv } from './env.ts';
import { edgeLog } from './log.ts';
import { clientAuth } from './middleware/auth.ts';
import { agentRoute } from './routes/agent.ts';
import { healthRoute } from './routes/health.ts';
import { restRoutes } from './routes/rest.ts';

export type AppEnv = { Bindings: EdgeEnv };

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.route('/', healthRoute);
  app.route('/', agentRoute);
  app.use('/api/*', clientAuth);
  app.route('/api', restRoutes);

  app.notFound(() => errorResponse(new GatewayError('NOT_FOUND', 'no such route')));
  app.onError((err) => {
    if (err instanceof GatewayError) return errorResponse(err);
    edgeLog('error', 'unhandled error', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return errorResponse(new GatewayError('INTERNAL', 'internal error'));
  });
  return app;
}
