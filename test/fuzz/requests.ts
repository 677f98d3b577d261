/**
 * fast-check arbitraries for hostile HTTP requests to the edge: every route, with methods,
 * path segments, query strings, headers and bodies drawn at random or mutated from valid ones
 * (JSON-RPC messages and batches, huge and deeply nested JSON, invalid UTF-8, Unicode anywhere).
 */
import fc from 'fast-check';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** Ids that exist at the edge when the run starts, so that some requests reach deeper. */
export interface KnownIds {
  restSession: string;
  mcpSession: string;
}

const SERVERS = ['everything', 'nope', 'api', 'health', 'agent', 'mcp', 'x'.repeat(65), 'ever%2Fthing'];
const TOOLS = ['echo', 'get-sum', 'trigger-long-running-operation', 'nope', 'tools', 'openapi.json', 'resources', 'prompts'];

const unicode = fc.string({ unit: 'grapheme', maxLength: 12 });
const anyText = fc.oneof(fc.string({ maxLength: 12 }), unicode, fc.string({ unit: 'binary', maxLength: 12 }));

const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SERVERS, ...TOOLS) },
  { weight: 2, arbitrary: anyText.map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.constantFrom('..', '.', '%', '%ZZ', '%C0%AF', '%00', '%FF%FE', '', '%2e%2e', 'a%20b') },
);

function pathFor(ids: KnownIds) {
  const s = segment;
  return fc.oneof(
    fc.constantFrom('/', '/health', '/api/sessionid', '/openapi.json', '/openapi.yaml', '/docs', '/status', '/status/page', '/agent', '/api', '/api/'),
    fc.tuple(s, s).map(([a, b]) => `/api/${a}/${b}`),
    s.map((a) => `/api/${a}/tools`),
    s.map((a) => `/api/${a}/openapi.json`),
    fc.tuple(s, anyText).map(([a, uri]) => `/api/${a}/resources/read?uri=${encodeURIComponent(uri)}`),
    fc.tuple(s, s).map(([a, b]) => `/api/${a}/prompts/${b}`),
    s.map((a) => `/${a}/mcp`),
    s.map((a) => `/${a}`),
    fc.array(s, { maxLength: 6 }).map((parts) => `/${parts.join('/')}`),
  ).chain((path) =>
    fc.oneof(
      fc.constant(path),
      fc.constantFrom(ids.restSession, ids.mcpSession, '', 'x', 'a'.repeat(300)).map((id) => `${path}${path.includes('?') ? '&' : '?'}sessionId=${encodeURIComponent(id)}`),
      anyText.map((q) => `${path}${path.includes('?') ? '&' : '?'}${encodeURIComponent(q)}=${encodeURIComponent(q)}`),
    ),
  );
}

const method = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD') }, { weight: 1, arbitrary: fc.constantFrom('PROPFIND', 'X-FUZZ', 'TRACE') });

/** Header values as latin1 text without CR/LF (what can go on the wire at all). */
const headerText = fc.oneof(anyText, fc.string({ maxLength: 200 })).map((v) => v.replace(/[^\x20-\x7e\x80-\xff]/g, '?'));

function headersFor(ids: KnownIds) {
  return fc.record(
    {
      'content-type': fc.oneof(fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data', ''), headerText),
      accept: fc.oneof(fc.constantFrom('application/json, text/event-stream', 'text/event-stream', 'application/json', '*/*'), headerText),
      'mcp-session-id': fc.oneof(fc.constantFrom(ids.mcpSession, ids.restSession, ''), headerText),
      'mcp-protocol-version': fc.oneof(fc.constantFrom('2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28', '1999-01-01'), headerText),
      'last-event-id': fc.oneof(fc.constantFrom('0', '1', '-1', '99999999999999999999'), headerText),
      origin: fc.oneof(fc.constantFrom('http://evil.example', 'null'), headerText),
      authorization: fc.oneof(fc.constantFrom('Bearer x', 'Basic Og==', 'Basic ' + 'A'.repeat(5000)), headerText),
      upgrade: fc.constantFrom('websocket', 'h2c'),
      'x-principal': headerText,
      'x-server': headerText,
    },
    { requiredKeys: [] },
  );
}

const jsonRpcId = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), fc.double(), fc.jsonValue({ maxDepth: 2 }));

function message(ids: KnownIds) {
  return fc.record(
    {
      jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
      id: jsonRpcId,
      method: fc.oneof(
        fc.constantFrom('initialize', 'tools/call', 'tools/list', 'notifications/initialized', 'notifications/cancelled', 'ping', 'resources/read', 'prompts/get', 'server/discover', 'sampling/createMessage'),
        fc.string({ maxLength: 30 }),
      ),
      params: fc.oneof(
        fc.record({
          name: fc.oneof(fc.constantFrom('echo', 'get-sum', 'nope'), unicode),
          arguments: fc.oneof(fc.record({ message: unicode }), fc.jsonValue({ maxDepth: 3 })),
          _meta: fc.record({ progressToken: jsonRpcId }, { requiredKeys: [] }),
        }, { requiredKeys: [] }),
        fc.record({ protocolVersion: fc.constantFrom('2025-11-25', '2024-11-05', 'x'), capabilities: fc.jsonValue({ maxDepth: 2 }), clientInfo: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }),
        fc.record({ requestId: jsonRpcId, uri: unicode, sessionId: fc.constantFrom(ids.mcpSession, ids.restSession) }, { requiredKeys: [] }),
        fc.jsonValue({ maxDepth: 3 }),
      ),
      result: fc.jsonValue({ maxDepth: 2 }),
      error: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  );
}

const utf8 = (text: string) => new TextEncoder().encode(text);

export function bodyFor(ids: KnownIds) {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => utf8(JSON.stringify(v) ?? 'null')) },
    { weight: 6, arbitrary: message(ids).map((m) => utf8(JSON.stringify(m))) },
    { weight: 1, arbitrary: fc.array(message(ids), { maxLength: 4 }).map((ms) => utf8(JSON.stringify(ms))) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 200_000 }).map((n) => utf8('['.repeat(n) + ']'.repeat(n))) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 50_000 }).map((n) => utf8(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)) },
    { weight: 1, arbitrary: fc.constantFrom(1000, 300_000, 2_000_000, 9_000_000).map((n) => utf8(JSON.stringify({ message: 'z'.repeat(n) }))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.constantFrom([0xc0, 0xaf], [0xff, 0xfe, 0x7b], [0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d], [0xef, 0xbb, 0xbf, 0x7b, 0x7d]).map((b) => new Uint8Array(b)) },
    { weight: 1, arbitrary: fc.tuple(message(ids), fc.nat()).map(([m, cut]) => { const t = JSON.stringify(m); return utf8(t.slice(0, cut % (t.length + 1))); }) },
  );
}

export function requestFor(ids: KnownIds): fc.Arbitrary<FuzzRequest> {
  return fc.record({ method: method, path: pathFor(ids), headers: headersFor(ids), body: bodyFor(ids) }).map((r) => ({
    ...r,
    // GET and HEAD carry no body on the wire.
    body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body,
  }));
}
