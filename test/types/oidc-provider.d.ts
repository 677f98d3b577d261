/** The part of oidc-provider (which ships no types) that test/e2e/oauth-upstream.test.ts uses. */
declare module 'oidc-provider' {
  import type http from 'node:http';

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number): http.Server;
  }
}
