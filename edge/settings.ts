/** The edge's limits, parsed once per environment from its Worker variables (shared/settings.ts). */
import { limitsFromVars, type Limits } from '../shared/settings.ts';
import type { EdgeEnv } from './env.ts';

const parsed = new WeakMap<object, Limits>();

export function edgeLimits(env: EdgeEnv): Limits {
  let limits = parsed.get(env);
  if (!limits) parsed.set(env, (limits = limitsFromVars(env as unknown as Record<string, unknown>)));
  return limits;
}
