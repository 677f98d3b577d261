/** The Worker entry: the Hono app as the default export, and the Hub Durable Object class. */
import { createApp } from './app.ts';

export { HubObject } from './hub/object.ts';
export { OAuthStoreObject } from './oauth/store-object.ts';
export default createApp();
