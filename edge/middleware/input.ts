/**
 * Values taken from the URL and headers that the edge passes on (to the Hub, into logs, into
 * frames) are checked before anything else: a path or query with control characters (CR, LF and
 * the rest) or broken percent-encoding, and session or event ids that are not visible ASCII, get
 * 400 instead of travelling further. Other Unicode in a path is a name like any other (an unknown
 * one is 404).
 */
import { createMiddleware } from 'hono/factory';
import { GatewayError } from '../../shared/errors.ts';
import type { AppEnv } from '../app.ts';
import { decodesToItself, parsedUrl } from './request-url.ts';

/** Control characters: C0, DEL, C1, and the line and paragraph separators. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** Session ids and event ids: visible ASCII, bounded. */
export const TOKEN = /^[\u0021-\u007e]{1,256}$/;

function decoded(value: string, what: string): string {
  let text: string;
  try {
    text = decodeURIComponent(value);
  } catch {
    throw new GatewayError('BAD_REQUEST', `${what} is not valid percent-encoding`);
  }
  if (UNSAFE.test(text)) throw new GatewayError('BAD_REQUEST', `${what} contains control characters`);
  return text;
}

function checkToken(name: string, value: string | null | undefined): void {
  if (value !== null && value !== undefined && value !== '' && !TOKEN.test(value)) throw new GatewayError('BAD_REQUEST', `${name} must be 1 to 256 visible ASCII characters`);
}

export const checkInput = createMiddleware<AppEnv>(async (c, next) => {
  const headers = c.req.raw.headers;
  const sessionHeader = headers.get('mcp-session-id');
  if (sessionHeader !== null && !TOKEN.test(sessionHeader)) throw new GatewayError('BAD_REQUEST', 'mcp-session-id must be 1 to 256 visible ASCII characters');
  const eventId = headers.get('last-event-id');
  if (eventId !== null && !TOKEN.test(eventId)) throw new GatewayError('BAD_REQUEST', 'last-event-id must be 1 to 256 visible ASCII characters');
  // A URL that decodes to itself has no control characters to find (see request-url.ts): the
  // path and query need no decoding; only the session id's length is left to check.
  if (decodesToItself(c.req.url)) {
    checkToken('sessionId', c.req.query('sessionId'));
    return next();
  }
  const url = parsedUrl(c.req.raw);
  decoded(url.pathname, 'the path');
  checkToken('sessionId', url.searchParams.get('sessionId'));
  for (const [name, value] of url.searchParams) {
    if (UNSAFE.test(name) || (name !== 'uri' && UNSAFE.test(value))) throw new GatewayError('BAD_REQUEST', 'a query parameter contains control characters');
  }
  return next();
});
