/**
 * Every tunable limit of the gateway in one table: its default, its bounds, its key under
 * `limits:` in config.yaml and the Worker variable that carries it to the edge. The config
 * schema's defaults, the edge's parsing of its environment, the vars `npm start` and `deploy`
 * give the Worker, and (checked by a test) wrangler.toml's [vars] all come from here.
 */
import { z } from 'zod';
import {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CALLS_PER_PRINCIPAL,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_RESULT_CHARS,
  DEFAULT_MAX_SESSIONS_PER_PRINCIPAL,
  DEFAULT_MCP_IDLE_MS,
  DEFAULT_SSE_KEEPALIVE_MS,
} from './constants.ts';

export interface LimitSetting {
  default: number;
  min: number;
  max?: number;
  /** The Worker variable (wrangler.toml [vars]). */
  workerVar: string;
  /** What it is, for the config schema and the docs. */
  help: string;
}

export const LIMIT_SETTINGS = {
  callTimeoutMs: { default: DEFAULT_CALL_TIMEOUT_MS, min: 100, max: 3_600_000, workerVar: 'CALL_TIMEOUT_MS', help: 'Deadline for one call through the gateway, in milliseconds (GPT Actions give up at 45 s).' },
  maxBodyBytes: { default: DEFAULT_MAX_BODY_BYTES, min: 1024, max: 32 * 1024 * 1024, workerVar: 'MAX_BODY_BYTES', help: 'Largest request body the edge accepts, in bytes.' },
  sseKeepaliveMs: { default: DEFAULT_SSE_KEEPALIVE_MS, min: 100, max: 60_000, workerVar: 'SSE_KEEPALIVE_MS', help: 'Interval of keepalive comments on SSE streams, in milliseconds.' },
  mcpSessionIdleMs: { default: DEFAULT_MCP_IDLE_MS, min: 1000, workerVar: 'MCP_IDLE_MS', help: 'A Streamable HTTP session unused this long, with no stream open, is ended (ms).' },
  maxResultChars: { default: DEFAULT_MAX_RESULT_CHARS, min: 0, workerVar: 'MAX_RESULT_CHARS', help: 'REST tool results longer than this many characters are cut, with a marker (0: never).' },
  maxSessionsPerPrincipal: { default: DEFAULT_MAX_SESSIONS_PER_PRINCIPAL, min: 1, max: 100_000, workerVar: 'MAX_SESSIONS_PER_PRINCIPAL', help: 'REST sessions, and MCP sessions, one client may hold at once (past it: 429).' },
  maxCallsPerPrincipal: { default: DEFAULT_MAX_CALLS_PER_PRINCIPAL, min: 1, max: 100_000, workerVar: 'MAX_CALLS_PER_PRINCIPAL', help: 'REST calls, and MCP requests, one client may have in flight at once, each counted apart (past it: 429 with Retry-After).' },
  maxFrameBytes: { default: DEFAULT_MAX_FRAME_BYTES, min: 1024 * 1024, max: 64 * 1024 * 1024, workerVar: 'MAX_FRAME_BYTES', help: 'Characters of chunked frames a host connection may have half-sent at once; also the largest frame a host sends.' },
} as const satisfies Record<string, LimitSetting>;

export type LimitName = keyof typeof LIMIT_SETTINGS;
export type Limits = { [K in LimitName]: number };

const LIMIT_NAMES = Object.keys(LIMIT_SETTINGS) as LimitName[];

/** A whole number, also written as a string of digits (as Worker variables are). */
export const WholeNumber = z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v), z.number().int());

function bounded(setting: LimitSetting) {
  return WholeNumber.pipe(setting.max === undefined ? z.number().min(setting.min) : z.number().min(setting.min).max(setting.max));
}

/** The defaults of every limit. */
export const DEFAULT_LIMITS: Limits = Object.fromEntries(LIMIT_NAMES.map((name) => [name, LIMIT_SETTINGS[name].default])) as Limits;

/** config.yaml's `limits:`, strict, every key optional with its default. */
type LimitField = ReturnType<typeof limitField>;
function limitField(name: LimitName) {
  return bounded(LIMIT_SETTINGS[name]).default(LIMIT_SETTINGS[name].default).describe(LIMIT_SETTINGS[name].help);
}
export const LimitsConfigSchema = z
  .strictObject(Object.fromEntries(LIMIT_NAMES.map((name) => [name, limitField(name)])) as Record<LimitName, LimitField>)
  .default(DEFAULT_LIMITS);

/** The Worker variables that carry `limits`. */
export function limitVars(limits: Limits): Record<string, string> {
  return Object.fromEntries(LIMIT_NAMES.map((name) => [LIMIT_SETTINGS[name].workerVar, String(limits[name])]));
}

/**
 * The limits from the Worker's environment: a variable that is absent or empty takes the
 * default; one that is set must be valid (the error names it).
 */
export function limitsFromVars(vars: Record<string, unknown>): Limits {
  const limits = {} as Limits;
  for (const name of LIMIT_NAMES) {
    const setting = LIMIT_SETTINGS[name];
    const raw = vars[setting.workerVar];
    if (raw === undefined || raw === '') {
      limits[name] = setting.default;
      continue;
    }
    const parsed = bounded(setting).safeParse(raw);
    if (!parsed.success) throw new Error(`Worker variable ${setting.workerVar}=${JSON.stringify(raw)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    limits[name] = parsed.data;
  }
  return limits;
}
