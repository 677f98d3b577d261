/** How the Worker reaches the Hub: one Durable Object per deployment, called through typed RPC methods. */
import type { EdgeEnv } from '../env.ts';
import type { HubObject } from './object.ts';

export type HubStub = DurableObjectStub<HubObject>;

/** The Hub's id, derived (hashed) once per namespace rather than per request; a stub is still made per request. */
const ids = new WeakMap<DurableObjectNamespace<HubObject>, DurableObjectId>();

export function hubStub(env: EdgeEnv): HubStub {
  let id = ids.get(env.HUB);
  if (!id) ids.set(env.HUB, (id = env.HUB.idFromName('hub')));
  return env.HUB.get(id);
}
