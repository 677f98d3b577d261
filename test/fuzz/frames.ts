/**
 * fast-check arbitraries for hostile WebSocket messages between edge and host: frames of every
 * type with fields valid, nearly valid or absurd; mutated frame text; chunk sequences that lie
 * about their order, size or end; oversized and deeply nested messages; binary messages.
 */
import fc from 'fast-check';

const names = fc.oneof(fc.constantFrom('rogue', 'everything', 'test', '', 'x'.repeat(65), 'a b', '../x'), fc.string({ maxLength: 10 }));
const ids = fc.oneof(fc.constantFrom('1', 'abc.1', '', 'x'.repeat(200)), fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null));
const anything = fc.jsonValue({ maxDepth: 3 });
const tool = fc.record({ name: names, description: fc.string({ maxLength: 40 }), inputSchema: fc.oneof(fc.constant({ type: 'object' }), anything) }, { requiredKeys: [] });
const server = fc.record({ name: names, tools: fc.oneof(fc.array(tool, { maxLength: 3 }), anything), error: fc.string({ maxLength: 20 }) }, { requiredKeys: ['name'] });
const jsonRpc = fc.record(
  { jsonrpc: fc.oneof(fc.constant('2.0'), anything), id: ids, method: fc.oneof(fc.constantFrom('tools/call', 'initialize', 'notifications/progress', 'sampling/createMessage', 'ping'), fc.string({ maxLength: 20 })), params: anything, result: anything, error: anything },
  { requiredKeys: [] },
);
const errorCode = fc.oneof(fc.constantFrom('BAD_FRAME', 'HOST_OFFLINE', 'INTERNAL', 'FRAME_TOO_LARGE', 'SERVER_EXITED'), fc.string({ maxLength: 12 }));

/** A frame-shaped object of any type, its fields drawn to be sometimes right. */
export const frameObject = fc.oneof(
  fc.record({ type: fc.constant('host.hello'), version: fc.constantFrom('1.0', '1.9', '2.0', 'x', ''), hostId: names, servers: fc.oneof(fc.array(server, { maxLength: 3 }), anything) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('server.update'), server }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('host.stats'), sessions: fc.oneof(fc.nat(), fc.integer(), fc.double()), pooled: fc.nat(), watching: fc.integer() }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('host.welcome'), version: fc.string({ maxLength: 5 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('rpc.request'), id: ids, server: names, session: names, method: fc.oneof(fc.constantFrom('tools/call', 'tools/list', 'resources/read'), fc.string({ maxLength: 20 })), params: anything, timeoutMs: fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer(), fc.double()) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('rpc.response'), id: ids, result: anything, error: fc.oneof(fc.record({ code: fc.integer(), message: fc.string({ maxLength: 20 }) }), anything), fault: fc.oneof(fc.record({ code: errorCode, message: fc.string({ maxLength: 20 }) }), anything) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('rpc.cancel'), id: ids, reason: fc.string({ maxLength: 20 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('rpc.notify'), server: names, session: names, method: fc.string({ maxLength: 20 }), params: anything }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('mcp.message'), server: names, session: names, message: fc.oneof(jsonRpc, anything) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('session.close'), server: names, session: names }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('session.closed'), server: names, session: names, reason: fc.string({ maxLength: 20 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('frame.error'), id: fc.string({ maxLength: 10 }), code: errorCode, message: fc.string({ maxLength: 20 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.oneof(fc.string({ maxLength: 15 }), anything) }),
);

/** Mutations of a frame's JSON text. */
const mutatedText = fc.tuple(frameObject, fc.nat(), fc.string({ unit: 'grapheme', maxLength: 3 }), fc.constantFrom('cut', 'replace', 'insert', 'array', 'bom', 'double')).map(([frame, at, text, how]) => {
  const json = JSON.stringify(frame);
  const i = at % (json.length + 1);
  switch (how) {
    case 'cut':
      return json.slice(0, i);
    case 'replace':
      return json.slice(0, i) + text + json.slice(i + 1);
    case 'insert':
      return json.slice(0, i) + text + json.slice(i);
    case 'array':
      return `[${json}]`;
    case 'bom':
      return `\uFEFF${json}`;
    default:
      return json + json;
  }
});

/** Chunk frames that carry a frame's text, with their order, ids, ends or counts tampered with. */
const chunkSequence = fc.tuple(frameObject, fc.integer({ min: 1, max: 40 }), fc.constantFrom('honest', 'no-last', 'shuffled', 'dup-seq', 'many-ids', 'bad-seq'), fc.string({ maxLength: 8 })).map(([frame, size, how, id]) => {
  const text = JSON.stringify(frame);
  const pieces: { type: 'chunk'; id: string; seq: number; last: boolean; data: string }[] = [];
  for (let o = 0, seq = 0; o < text.length; o += size, seq++) pieces.push({ type: 'chunk', id: id || 'c', seq, last: o + size >= text.length, data: text.slice(o, o + size) });
  if (how === 'no-last') pieces.forEach((p) => (p.last = false));
  if (how === 'shuffled') pieces.reverse();
  if (how === 'dup-seq') pieces.forEach((p) => (p.seq = 0));
  if (how === 'many-ids') pieces.forEach((p, k) => (p.id = `${id}${k}`));
  if (how === 'bad-seq') pieces.forEach((p, k) => (p.seq = k * 7 - 3));
  return pieces.map((p) => JSON.stringify(p));
});

const oversized = fc.constantFrom(
  () => 'x'.repeat(1_100_000),
  () => JSON.stringify({ type: 'rpc.response', id: '1', result: { text: 'y'.repeat(1_100_000) } }),
  () => '['.repeat(100_000) + ']'.repeat(100_000),
  () => JSON.stringify({ type: 'chunk', id: 'big', seq: 0, last: false, data: 'z'.repeat(900_000) }),
).map((make) => make());

/** One WebSocket message (text, or binary as a Uint8Array), or a run of them (chunks). */
export const rogueMessages = fc.oneof(
  { weight: 6, arbitrary: frameObject.map((f) => [JSON.stringify(f)]) },
  { weight: 3, arbitrary: mutatedText.map((t) => [t]) },
  { weight: 2, arbitrary: chunkSequence },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('ping', 'pong', '', 'null', '{}', '[]', '"x"', '1e999')).map((t) => [t]) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => [b]) },
  { weight: 1, arbitrary: oversized.map((t) => [t]) },
);

export type RogueMessage = string | Uint8Array;
