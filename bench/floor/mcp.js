/**
 * The floor's MCP, the least of it: enough MCP Streamable HTTP (JSON answers, no sessions),
 * HTTP+SSE and REST (`POST /api/<server>/<tool>`) for the benchmark's own clients to drive the bare path
 * Worker -> Durable Object RPC -> WebSocket -> relay -> server's stdin, and back.
 *
 * No validation and no parsing where a string operation does: the MCP SDK writes a request's and
 * a result's `id` as the last member (`...,"jsonrpc":"2.0","id":7}`), so the Durable Object
 * swaps it for a tag of its own (the clients of every session share one server) and back by
 * looking at the text's tail; any other message is parsed (`JSON.parse`) to find it.
 */

const TAIL_ID = /,"id":(-?\d+|"(?:[^"\\]|\\.)*")\}\s*$/;
/** How far from the end the tail id is looked for. */
const TAIL = 128;

/** @param {string} text @returns {{ at: number, id: string } | undefined} */
function tailId(text) {
  const from = Math.max(0, text.length - TAIL);
  const m = TAIL_ID.exec(from ? text.slice(from) : text);
  return m ? { at: from + m.index, id: /** @type {string} */ (m[1]) } : undefined;
}

/**
 * A client's message: its id (as JSON text) if it is a request, undefined for a notification or a response.
 * @param {string} text
 */
export function requestId(text) {
  const tail = tailId(text);
  if (tail) return tail.id;
  const message = JSON.parse(text);
  return typeof message?.method === 'string' && message.id !== undefined && message.id !== null ? JSON.stringify(message.id) : undefined;
}

/**
 * A server's line: the id (as JSON text) if it is a response, undefined for the server's own
 * notifications and requests (the floor carries no server-to-client messages).
 * @param {string} text
 */
export function responseId(text) {
  if (text.startsWith('{"method"')) return undefined;
  const tail = tailId(text);
  if (tail) return tail.id;
  const message = JSON.parse(text);
  return message?.method === undefined && message?.id !== undefined && message.id !== null ? JSON.stringify(message.id) : undefined;
}

/**
 * The same message with another id (JSON text).
 * @param {string} text @param {string} id
 */
export function withId(text, id) {
  const tail = tailId(text);
  if (tail) return `${text.slice(0, tail.at)},"id":${id}}`;
  const message = JSON.parse(text);
  message.id = JSON.parse(id);
  return JSON.stringify(message);
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** A message that is not JSON (400), or no relay (502). @param {unknown} err */
function failed(err) {
  const parse = err instanceof Error && err.name === 'SyntaxError';
  const error = parse ? { code: -32700, message: 'Parse error' } : { code: -32603, message: 'no relay' };
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error }), { status: parse ? 400 : 502, headers: JSON_TYPE });
}
const RESULT_HEAD = '{"result":';
const RESULT_TAIL = ',"jsonrpc":"2.0","id":0}';

/**
 * `POST /mcp`: one JSON-RPC message; a request's answer as JSON, anything else 202. GET and
 * DELETE: 405 (no server-to-client stream, no session to end).
 * @param {Request} request @param {{ mcp(text: string): Promise<string | null> }} stub
 */
export async function mcpFetch(request, stub) {
  if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
  let answer;
  try {
    answer = await stub.mcp(await request.text());
  } catch (err) {
    return failed(err);
  }
  return answer === null ? new Response(null, { status: 202 }) : new Response(answer, { headers: JSON_TYPE });
}

/**
 * HTTP+SSE (2024-11-05): `GET /sse` is the session's stream, held by the Durable Object;
 * `POST /message?sessionId=...` relays one message and answers 202, its answer goes on the stream.
 * @param {Request} request @param {string} path
 * @param {{ fetch(request: Request): Promise<Response>, sseMessage(session: string, text: string): Promise<boolean> }} stub
 */
export async function sseFetch(request, path, stub) {
  if (path === '/sse') return request.method === 'GET' ? stub.fetch(request) : new Response(null, { status: 405, headers: { allow: 'GET' } });
  if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
  const url = request.url;
  const at = url.indexOf('sessionId=');
  const session = at < 0 ? '' : url.slice(at + 10);
  let known;
  try {
    known = await stub.sseMessage(session, await request.text());
  } catch (err) {
    return failed(err);
  }
  return new Response(known ? 'Accepted' : 'unknown session', { status: known ? 202 : 404 });
}

/**
 * `GET /api/sessionid` and `POST /api/<server>/<tool>`: the body, as it is, becomes the
 * arguments of a `tools/call`; the answer's `result`, cut out of the server's line, the body.
 * @param {Request} request @param {string} path @param {{ mcp(text: string): Promise<string | null> }} stub
 */
export async function restFetch(request, path, stub) {
  if (path === '/api/sessionid') return new Response('{"sessionId":"floor"}', { headers: JSON_TYPE });
  const tool = path.slice(path.lastIndexOf('/') + 1);
  const line = `{"jsonrpc":"2.0","method":"tools/call","params":{"name":${JSON.stringify(tool)},"arguments":${await request.text()}},"id":0}`;
  let answer;
  try {
    answer = await stub.mcp(line);
  } catch (err) {
    return failed(err);
  }
  if (answer !== null && answer.startsWith(RESULT_HEAD) && answer.endsWith(RESULT_TAIL)) {
    return new Response(answer.slice(RESULT_HEAD.length, -RESULT_TAIL.length), { headers: JSON_TYPE });
  }
  const message = JSON.parse(answer ?? 'null');
  return message?.result !== undefined
    ? new Response(JSON.stringify(message.result), { headers: JSON_TYPE })
    : new Response(JSON.stringify({ error: message?.error }), { status: 502, headers: JSON_TYPE });
}
