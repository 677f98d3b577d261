/**
 * The config file schema: the original project's `config.yaml` keys, plus the gateway's own.
 * Strict: an unknown key is an error, never silently ignored.
 */
import { z } from 'zod';
import { HostTokenSchema, JwtAuthFields, oneKeySource, PrincipalIdSchema } from './auth.ts';
import { DEFAULT_MAX_PROCESSES, NAME_PATTERN, RESERVED_NAMES } from './constants.ts';
import { OAuthConfigSchema } from './oauth.ts';
import { LimitsConfigSchema, WholeNumber } from './settings.ts';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A whole number, also when written as a string (as `${PORT}` expands to). */

const EnvValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const ServerConfigSchema = z.strictObject({
  /** Program to run; a relative path containing `/` is taken from the config file's folder. */
  command: z.string().min(1),
  args: z.array(z.union([z.string(), z.number()]).transform(String)).default([]),
  /** Working directory (relative to the config file's folder). */
  path: z.string().min(1).optional(),
  /** Extra environment variables for the server process. */
  env: z.record(z.string(), EnvValue).default({}),
  /** per-session: a process per session (as the original); shared: one process for every REST session. */
  instances: z.enum(['per-session', 'shared']).default('per-session'),
  /**
   * Processes kept ready, so a new session does not wait for a start (per-session only): `auto`
   * keeps one spare while the server is in use and none once it has been idle for a minute; a
   * number keeps that many at all times (0: none).
   */
  pool: z.union([z.literal('auto'), WholeNumber.pipe(z.number().min(0).max(32))]).default('auto'),
  /** `false` keeps the server in the file but does not run or announce it. */
  enabled: z.boolean().optional(),
  /** Which of the server's tools are offered: only those in `allow`, or all but those in `deny` (`*` matches any characters). */
  tools: z
    .strictObject({
      allow: z.array(z.string().min(1)).optional(),
      deny: z.array(z.string().min(1)).optional(),
    })
    .refine((t) => (t.allow === undefined) !== (t.deny === undefined), 'give either allow or deny (a list of tool names), not both')
    .optional(),
});
export type ServerConfig = z.infer<typeof ServerConfigSchema>;

/** A server the host runs and announces (not `enabled: false`). */
export function isEnabled(server: Pick<ServerConfig, 'enabled'>): boolean {
  return server.enabled !== false;
}

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const ServerName = z
  .string()
  .regex(NAME_PATTERN, 'server names are 1 to 64 letters, digits, "_" or "-"')
  .refine((name) => !RESERVED_NAMES.has(name.toLowerCase()), {
    message: `this name is reserved for the gateway's own paths (${[...RESERVED_NAMES].join(', ')})`,
  });

export const AuthConfigSchema = z
  .strictObject({
  basic: z
    .strictObject({
      enabled: z.boolean().default(true),
      credentials: z.array(z.strictObject({ username: z.string().min(1), password: z.string().min(1) })).default([]),
    })
    .optional(),
  bearer: z
    .strictObject({
      enabled: z.boolean().default(true),
      tokens: z.array(z.string().min(1)).default([]),
    })
    .optional(),
  jwt: JwtAuthFields.extend({ enabled: z.boolean().default(true) })
    .refine(oneKeySource, 'give exactly one of secret or jwksUrl')
    .optional(),
  /** The gateway as an OAuth 2.1 authorization server (sign-in with the credentials above). */
  oauth: OAuthConfigSchema.optional(),
  /** Who may read `/status` and end sessions there, by principal id; absent: every credential. */
  operators: z.array(PrincipalIdSchema).max(1000).optional(),
  })
  .refine((auth) => Boolean(auth.basic?.enabled || auth.bearer?.enabled || auth.jwt?.enabled), {
    message: 'auth is present but every method is disabled: enable basic, bearer or jwt, or remove the auth section',
  })
  .refine((auth) => !auth.oauth?.enabled || Boolean((auth.basic?.enabled && auth.basic.credentials.length) || (auth.bearer?.enabled && auth.bearer.tokens.length) || auth.oauth.upstream), {
    message: 'auth.oauth needs basic credentials, bearer tokens or an upstream provider: the sign-in page checks them',
    path: ['oauth'],
  });
export type AuthConfig = z.infer<typeof AuthConfigSchema>;

export const ConfigSchema = z.strictObject({
  hostname: z.string().min(1).default('127.0.0.1'),
  port: WholeNumber.pipe(z.number().min(0).max(65535)).default(3000),
  debug: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      /** text: one readable line per entry (coloured on a terminal); json: one JSON object per line. */
      format: z.enum(LOG_FORMATS).default('text'),
    })
    .default({ level: 'info', format: 'text' }),
  auth: AuthConfigSchema.optional(),
  /** Tokens host agents present to the edge (`mcp-gateway edge`, deploy); `npm start` adds its own. */
  hostTokens: z.array(HostTokenSchema).default([]),
  /** The gateway's public URL (for the OpenAPI document's servers); default: the request's origin. */
  publicUrl: z.url().optional(),
  /** Browser origins, besides the gateway's own, allowed to call it (DNS-rebinding protection). */
  allowedOrigins: z.array(z.url().transform((u) => new URL(u).origin)).default([]),
  /** Deadlines, sizes and counts; each with its default and Worker variable in shared/settings.ts. */
  limits: LimitsConfigSchema,
  host: z
    .strictObject({
      /** This machine's name at the edge; defaults to the OS hostname. */
      id: z.string().regex(NAME_PATTERN).optional(),
      /** A session's server process that has had nothing to do this long is stopped. */
      idleTimeoutMs: WholeNumber.pipe(z.number().min(100)).default(15 * 60 * 1000),
      /** A server process older than this is stopped (when it has nothing in flight). */
      maxLifetimeMs: WholeNumber.pipe(z.number().min(1000)).default(24 * 60 * 60 * 1000),
      /** Environment variables of the host passed on to server processes, besides PATH, HOME, USER, LANG and the like. */
      inheritEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')).default([]),
      /** Server processes this host runs at once for sessions, calls and pools; a start past it waits up to 5 s, then 503. */
      maxProcesses: WholeNumber.pipe(z.number().min(1).max(10_000)).default(DEFAULT_MAX_PROCESSES),
    })
    .default({ idleTimeoutMs: 15 * 60 * 1000, maxLifetimeMs: 24 * 60 * 60 * 1000, inheritEnv: [], maxProcesses: DEFAULT_MAX_PROCESSES }),
  servers: z.record(ServerName, ServerConfigSchema).default({}),
});
export type Config = z.infer<typeof ConfigSchema>;

/** The problems found in a config, each with the key path it concerns. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

/** Replaces `${NAME}` in every string with the environment's value; `$${` stays a literal `${`. */
export function expandEnv(value: unknown, env: Record<string, string | undefined>, path: (string | number)[] = [], issues: ConfigIssue[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, escaped: string, name: string) => {
      if (escaped) return whole.slice(1);
      const found = env[name];
      if (found === undefined) {
        issues.push({ path, message: `environment variable ${name} is not set` });
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => expandEnv(item, env, [...path, i], issues));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, [...path, k], issues)]));
  }
  return value;
}

/** Validates a parsed config; returns the config or the list of issues. */
export function parseConfig(raw: unknown, env: Record<string, string | undefined>): { config: Config } | { issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const expanded = expandEnv(raw ?? {}, env, [], issues);
  if (issues.length) return { issues };
  const parsed = ConfigSchema.safeParse(expanded);
  if (!parsed.success) {
    return {
      issues: parsed.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        if (issue.code === 'invalid_key') {
          // A refused record key (a server name): zod keeps the reason one level down.
          return { path, message: issue.issues[0]?.message ?? issue.message };
        }
        if (issue.code === 'unrecognized_keys') {
          return { path: [...path, issue.keys[0] ?? ''], message: `unknown key "${issue.keys.join('", "')}"` };
        }
        if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
          return { path, message: `missing: a ${issue.expected} is required here` };
        }
        return { path, message: issue.message };
      }),
    };
  }
  return { config: parsed.data };
}
