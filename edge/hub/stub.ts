/** How the Worker reaches the Hub: one Durable Object per deployment, a fresh stub per request. */
import { GatewayError } from '../../shared/errors.ts';
import type { EdgeEnv } from '../env.ts';

export function hubStub(env: EdgeEnv): DurableObjectStub {
  return env.HUB.get(env.HUB.idFromName('hub'));
}

/** What no HTTP header value may contain; names and ids from a URL path can (`/%00`). */
const UNSENDABLE = /[\0\r\n]/;

/** A request to the Hub's HTTP face (the host part of the URL is ignored). */
export function hubFetch(env: EdgeEnv, path: string, init?: RequestInit): Promise<Response> {
  const headers = init?.headers;
  if (headers && !(headers instanceof Headers) && !Array.isArray(headers)) {
    for (const [name, value] of Object.entries(headers)) {
      if (UNSENDABLE.test(value)) throw new GatewayError('BAD_REQUEST', `the request's ${name.replace(/^x-/, '')} contains NUL, CR or LF, which no name or id may contain`);
    }
  }
  return hubStub(env).fetch(`https://hub${path}`, init);
}
