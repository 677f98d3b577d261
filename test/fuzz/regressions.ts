/**
 * Inputs that property tests found to break the gateway, kept as regression cases: each runs
 * first, before the random ones, every time. The comment says what it broke and the seed that
 * found it.
 */
import type { FuzzRequest } from './requests.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

export const HTTP_REGRESSIONS: FuzzRequest[] = [
  // Deeply nested JSON: JSON.parse overflows its stack (a RangeError, not a SyntaxError).
  { method: 'POST', path: '/api/everything/echo', headers: { 'content-type': 'application/json' }, body: utf8('['.repeat(200_000) + ']'.repeat(200_000)) },
  { method: 'POST', path: '/everything/mcp', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: utf8('{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000)) },
];
