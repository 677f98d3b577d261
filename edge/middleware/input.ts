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

/** Control characters: C0, DEL, C1, and the line and paragraph separators. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** Session ids and event ids: visible ASCII, bounded. */
const TOKEN = /^[\u0021-\u007e]{1,256}$/;

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

export const checkInput = createMiddleware<AppEnv>(async (c, next) => {
  const url = new URL(c.req.url);
  decoded(url.pathname, 'the path');
  const sessionId = url.searchParams.get('sessionId');
  if (sessionId !== null && sessionId !== '' && !TOKEN.test(sessionId)) throw new GatewayError('BAD_REQUEST', 'sessionId must be 1 to 256 visible ASCII characters');
  for (const name of ['mcp-session-id', 'last-event-id']) {
    const value = c.req.header(name);
    if (value !== undefined && !TOKEN.test(value)) throw new GatewayError('BAD_REQUEST', `${name} must be 1 to 256 visible ASCII characters`);
  }
  for (const [name, value] of url.searchParams) {
    if (UNSAFE.test(name) || (name !== 'uri' && UNSAFE.test(value))) throw new GatewayError('BAD_REQUEST', 'a query parameter contains control characters');
  }
  return next();
});
