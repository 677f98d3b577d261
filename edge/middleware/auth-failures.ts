/**
 * Credentials that fail on the API, counted per source address (`CF-Connecting-IP`, as Cloudflare
 * sets it; one shared count where there is none, as on a local edge), so a password or token
 * cannot be guessed at the speed of the network. Past MAX_AUTH_FAILURES within WINDOW_SECONDS of
 * the first failure, a request from that source is answered 429 with Retry-After without its
 * credential being checked, unless it carries a static credential this Worker has already seen
 * pass (principal-memo.ts): clients that were working keep working.
 *
 * The counts live in the OAuth store (one Durable Object for the deployment, as the sign-in page's
 * do), so every Worker instance adds to the same window; each instance also keeps, in memory, the
 * sources it has seen go over, so a blocked source costs no store access. Only a credential that
 * was sent and refused counts; a request without one (an MCP client discovering how to sign in)
 * does not.
 */
import type { EdgeEnv } from '../env.ts';
import { edgeLog } from '../log.ts';
import { oauthKv } from '../oauth/kv.ts';
import { countFailure, oneMoreFailure, type Failures } from '../oauth/sign-in-limit.ts';

export const MAX_AUTH_FAILURES = 30;
export const WINDOW_SECONDS = 60;
const KEY_PREFIX = 'api-auth-failures:';
/** Sources this instance knows to be over the limit, with when their window ends (ms); the oldest dropped first past the bound. */
const blocked = new Map<string, number>();
const MAX_BLOCKED = 1024;

/** Seconds this source must wait before its credentials are checked again; undefined when they are checked now. */
export function authBlockedFor(source: string, now = Date.now()): number | undefined {
  const until = blocked.get(source);
  if (until === undefined) return undefined;
  if (until <= now) {
    blocked.delete(source);
    return undefined;
  }
  return Math.max(1, Math.ceil((until - now) / 1000));
}

/** This instance's own counts, used only when the store cannot be reached (a refusal is never turned into a 5xx). */
const local = new Map<string, Failures>();

function countLocally(source: string, now: number): Failures {
  const failures = oneMoreFailure(local.get(source), WINDOW_SECONDS, now);
  local.delete(source);
  if (local.size >= MAX_BLOCKED) local.delete(local.keys().next().value!);
  local.set(source, failures);
  return failures;
}

/** Counts one refused credential from this source; from the limit on, the source is blocked here until its window ends. */
export async function noteAuthFailure(env: EdgeEnv, source: string, now = Date.now()): Promise<void> {
  let failures: Failures;
  try {
    failures = await countFailure(oauthKv(env, []), KEY_PREFIX + source, WINDOW_SECONDS, now);
  } catch {
    failures = countLocally(source, now);
  }
  if (failures.count < MAX_AUTH_FAILURES) return;
  if (failures.count === MAX_AUTH_FAILURES) {
    edgeLog('warn', 'refused credentials: a source is past the limit, its new credentials are not checked until its window ends', { source, failures: failures.count, windowSeconds: WINDOW_SECONDS, blockedUntil: new Date(failures.until).toISOString() });
  }
  blocked.delete(source);
  if (blocked.size >= MAX_BLOCKED) blocked.delete(blocked.keys().next().value!);
  blocked.set(source, failures.until);
}
