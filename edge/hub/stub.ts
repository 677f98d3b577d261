/** How the Worker reaches the Hub: one Durable Object per deployment, called through typed RPC methods. */
import type { EdgeEnv } from '../env.ts';
import type { HubObject } from './object.ts';

export type HubStub = DurableObjectStub<HubObject>;

export function hubStub(env: EdgeEnv): HubStub {
  return env.HUB.get(env.HUB.idFromName('hub'));
}
