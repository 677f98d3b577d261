/**
 * The Worker's bindings: `Env` is generated from wrangler.toml by `wrangler types`
 * (edge/worker-configuration.d.ts, written by `npm run types`, which `npm run typecheck` runs first); the secrets, which wrangler.toml cannot list, are added here.
 */
export interface EdgeEnv extends Env {
  /** Comma-separated tokens that host agents present on /agent. */
  HOST_TOKENS?: string;
  /** Client credentials as JSON: {"basic":[{"username","password"}],"bearer":["token"]}. */
  CLIENT_AUTH?: string;
  /** OAuth settings as JSON (shared/oauth.ts OAuthSettingsSchema); absent: OAuth is off. */
  OAUTH?: string;
}
