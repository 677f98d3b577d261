/**
 * Inputs that property tests found to break the gateway, kept as regression cases: each runs
 * first, before the random ones, every time. The comment says what it broke and the seed that
 * found it.
 */
import type { FuzzRequest } from './requests.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

export const HTTP_REGRESSIONS: FuzzRequest[] = [
  // A HEAD whose GET is a documented upstream error (502 UPSTREAM_ERROR): the answer has no body
  // to say so, and the check took it for an undocumented 5xx. Found by seed 1659101596.
  { method: 'HEAD', path: '/api/everything/resources/read?uri=%F0%9D%85%98%F0%9D%85%A5%F0%9D%85%AE&=', headers: {} },
  // Deeply nested JSON: JSON.parse overflows its stack (a RangeError, not a SyntaxError).
  { method: 'POST', path: '/api/everything/echo', headers: { 'content-type': 'application/json' }, body: utf8('['.repeat(200_000) + ']'.repeat(200_000)) },
  { method: 'POST', path: '/everything/mcp', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: utf8('{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000)) },
  // A NUL in a server name, tool name or session id from the URL reached a header towards the
  // Hub, which threw (500 INTERNAL); now 400. Found by seed 1 of test/fuzz/http.test.ts.
  { method: 'GET', path: '/%00?=', headers: {} },
  { method: 'POST', path: '/api/%00/echo', headers: { 'content-type': 'application/json' }, body: utf8('{}') },
  { method: 'POST', path: '/api/everything/echo?sessionId=%0A', headers: { 'content-type': 'application/json' }, body: utf8('{"message":"x"}') },
  // An object nested a few thousand deep parses, but overflowed the stack when the Worker passed
  // it to the Hub over RPC (structured clone): 500 INTERNAL; now 400 past 200 levels. Found by
  // seeds 1261894947 and 1394058005.
  { method: 'POST', path: '/api/everything/echo', headers: {}, body: utf8(`${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`) },
  { method: 'POST', path: '/api/everything/prompts/x', headers: {}, body: utf8(`${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`) },
  { method: 'POST', path: '/everything/mcp', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: utf8(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":${'['.repeat(3000)}${']'.repeat(3000)}}`) },
];
