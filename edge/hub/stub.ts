/** How the Worker reaches the Hub: one Durable Object per deployment, a fresh stub per request. */
import type { EdgeEnv } from '../env.ts';

export function hubStub(env: EdgeEnv): DurableObjectStub {
  return env.HUB.get(env.HUB.idFromName('hub'));
}

/** A request to the Hub's HTTP face (the host part of the URL is ignored). */
export function hubFetch(env: EdgeEnv, path: string, init?: RequestInit): Promise<Response> {
  return hubStub(env).fetch(`https://hub${path}`, init);
}
