/**
 * Failed sign-ins on the OAuth sign-in page, counted per source address (`CF-Connecting-IP`, as
 * Cloudflare sets it; one shared count where there is none, as on a local edge). Past
 * MAX_FAILURES within WINDOW_SECONDS of the first failure, the form answers 429 with Retry-After
 * without checking what was typed, so a password cannot be guessed faster than that. The counts
 * live in the OAuth store (one Durable Object for the deployment), so every Worker instance sees
 * them, and expire on their own.
 */
import type { OAuthKv } from './kv.ts';

export const MAX_FAILURES = 10;
export const WINDOW_SECONDS = 60;
const KEY_PREFIX = 'signin-failures:';

export interface Failures {
  count: number;
  /** When the window that the first failure opened ends, ms since the epoch. */
  until: number;
}

/** The address a sign-in came from, as a store key part (bounded, no separators). */
export function signInSource(connectingIp: string | undefined): string {
  const ip = connectingIp?.trim() ?? '';
  return /^[0-9A-Fa-f:.]{1,64}$/.test(ip) ? ip : 'unknown';
}

/** The window after one more failure: the current one if still open, else one the failure opens. */
export function oneMoreFailure(current: Failures | undefined, windowSeconds: number, now: number): Failures {
  const open = current && current.until > now ? current : { count: 0, until: now + windowSeconds * 1000 };
  return { count: open.count + 1, until: open.until };
}

async function failuresOf(kv: OAuthKv, key: string, now: number): Promise<Failures | undefined> {
  const stored = (await kv.get(key, 'json')) as Failures | null;
  return stored && stored.until > now ? stored : undefined;
}

/**
 * Counts one failure under `key` (a prefix and a source) in the store, in a window that the first
 * failure opens; returns the window as it now stands.
 */
export async function countFailure(kv: OAuthKv, key: string, windowSeconds: number, now = Date.now()): Promise<Failures> {
  const failures = oneMoreFailure(await failuresOf(kv, key, now), windowSeconds, now);
  await kv.put(key, JSON.stringify(failures), { expiration: Math.ceil(failures.until / 1000) });
  return failures;
}

/** Seconds to wait before this source may try again; undefined when it may try now. */
export async function signInBlockedFor(kv: OAuthKv, source: string, now = Date.now()): Promise<number | undefined> {
  const failures = await failuresOf(kv, KEY_PREFIX + source, now);
  return failures && failures.count >= MAX_FAILURES ? Math.max(1, Math.ceil((failures.until - now) / 1000)) : undefined;
}

/** Counts one failed sign-in from this source. */
export async function noteFailedSignIn(kv: OAuthKv, source: string, now = Date.now()): Promise<void> {
  await countFailure(kv, KEY_PREFIX + source, WINDOW_SECONDS, now);
}
