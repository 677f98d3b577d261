/**
 * Principals of static credentials (Basic, and bearer tokens listed in CLIENT_AUTH) that have
 * passed the full check, by the exact Authorization header value: a later request with the same
 * header skips the SHA-256 digests of the constant-time comparison and of the principal's id
 * (three `crypto.subtle.digest` calls per request with one bearer token).
 *
 * Only successes are kept, so a header that is not a valid credential always takes the full,
 * constant-time check, and the memo holds nothing an attacker sent. JWTs and OAuth tokens are
 * never kept (they expire). Bounded: past MEMO_ENTRIES the oldest entry goes; headers longer
 * than MEMO_HEADER_CHARS are not kept. One memo per parsed CLIENT_AUTH, so a changed setting
 * starts empty.
 */
import type { ClientAuth } from '../../shared/auth.ts';

export const MEMO_ENTRIES = 256;
export const MEMO_HEADER_CHARS = 1024;

const memos = new WeakMap<ClientAuth, Map<string, string>>();

/** The principal a header was found to carry, if it passed the full check before. */
export function rememberedPrincipal(auth: ClientAuth, header: string | undefined): string | undefined {
  return header === undefined ? undefined : memos.get(auth)?.get(header);
}

/** Keeps a principal that the full check gave for a static credential. */
export function rememberPrincipal(auth: ClientAuth, header: string | undefined, principal: string): void {
  if (header === undefined || header.length > MEMO_HEADER_CHARS) return;
  let memo = memos.get(auth);
  if (!memo) memos.set(auth, (memo = new Map()));
  if (memo.size >= MEMO_ENTRIES && !memo.has(header)) memo.delete(memo.keys().next().value!);
  memo.set(header, principal);
}
