import { describe, expect, it } from 'vitest';
import { CHUNK_CHARS, MAX_FRAME_CHARS, WHOLE_MESSAGE_CHARS } from './constants.ts';
import { GatewayError, type ErrorCode } from './errors.ts';
import fc from 'fast-check';
import { DEFAULT_LIMITS, encodeFrame, FrameDecoder, messageFrameText, requestFrameText, sendingLimits, type FramingLimits } from './framing.ts';
import type { Frame } from './protocol.ts';

const welcome: Frame = { type: 'host.welcome', version: '1.0' };

function responseCarrying(text: string): Frame {
  return { type: 'rpc.response', id: 'call-1', result: { content: [{ type: 'text', text }] } };
}

/** Runs `fn` and returns the GatewayError code it throws (fails the test if it throws anything else or nothing). */
function codeOf(fn: () => unknown): ErrorCode {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return (err as GatewayError).code;
  }
  throw new Error('expected a GatewayError, but nothing was thrown');
}

/** Feeds every message to the decoder; returns the frames it completed. */
function decodeAll(decoder: FrameDecoder, messages: string[]): Frame[] {
  const frames: Frame[] = [];
  for (const message of messages) {
    const frame = decoder.decode(message);
    if (frame) frames.push(frame);
  }
  return frames;
}

function chunk(id: string, seq: number, last: boolean, data: string): string {
  return JSON.stringify({ type: 'chunk', id, seq, last, data });
}

/** The decoder is still usable: a plain frame decodes. */
function expectStillWorks(decoder: FrameDecoder): void {
  expect(decoder.decode(JSON.stringify(welcome))).toEqual(welcome);
}

describe('encodeFrame', () => {
  it('sends a small frame as one message, the frame itself', () => {
    const messages = encodeFrame(welcome);
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]!)).toEqual(welcome);
    expect(new FrameDecoder().decode(messages[0]!)).toEqual(welcome);
  });

  it('round-trips a frame carrying a 5 MiB string, every message within MAX_FRAME_CHARS', () => {
    // Varied content (not one repeated char) so a misordered or dropped piece would show.
    const unit = 'abcdefghijklmnopqrstuvwxyz0123456789"\\\n\u00e9\u4e2d';
    const big = unit.repeat(Math.ceil((5 * 1024 * 1024) / unit.length)).slice(0, 5 * 1024 * 1024);
    const frame = responseCarrying(big);

    const messages = encodeFrame(frame);
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) {
      expect(message.length).toBeLessThanOrEqual(MAX_FRAME_CHARS);
      expect(JSON.parse(message).type).toBe('chunk');
    }

    const decoder = new FrameDecoder();
    const results = messages.map((m) => decoder.decode(m));
    // Nothing comes out until the last piece.
    expect(results.slice(0, -1).every((r) => r === null)).toBe(true);
    expect(results.at(-1)).toEqual(frame);
    expect(decoder.openStreams).toBe(0);
  });

  it('keeps every message within MAX_FRAME_CHARS even when the content is all escapes', () => {
    // A backslash is 2 chars in the frame's JSON and 4 once that JSON is quoted again in a chunk.
    const frame = responseCarrying('\\"'.repeat(1024 * 1024));
    const messages = encodeFrame(frame);
    for (const message of messages) expect(message.length).toBeLessThanOrEqual(MAX_FRAME_CHARS);
    expect(decodeAll(new FrameDecoder(), messages)).toEqual([frame]);
  });

  it('keeps characters intact when a chunk boundary splits a surrogate pair', () => {
    const limits: FramingLimits = { ...DEFAULT_LIMITS, chunkChars: 7 };
    const frame = responseCarrying('\u{1F600}\u{1F680}'.repeat(40)); // emoji: two UTF-16 units each
    const messages = encodeFrame(frame, limits);
    expect(messages.length).toBeGreaterThan(10);
    expect(decodeAll(new FrameDecoder(limits), messages)).toEqual([frame]);
  });

  it('interleaved chunk streams of two frames both reassemble', () => {
    const limits: FramingLimits = { ...DEFAULT_LIMITS, chunkChars: 50 };
    const a = responseCarrying('A'.repeat(400));
    const b = responseCarrying('B'.repeat(300));
    const ma = encodeFrame(a, limits);
    const mb = encodeFrame(b, limits);
    const interleaved: string[] = [];
    for (let i = 0; i < Math.max(ma.length, mb.length); i++) {
      if (ma[i]) interleaved.push(ma[i]!);
      if (mb[i]) interleaved.push(mb[i]!);
    }
    expect(decodeAll(new FrameDecoder(limits), interleaved)).toEqual([b, a]);
  });

  it('refuses to encode a frame larger than maxMessageChars', () => {
    const limits: FramingLimits = { ...DEFAULT_LIMITS, chunkChars: 100, maxMessageChars: 1000 };
    expect(codeOf(() => encodeFrame(responseCarrying('x'.repeat(2000)), limits))).toBe('FRAME_TOO_LARGE');
  });

  it('uses CHUNK_CHARS by default: a frame just under it is one message, well over it is several', () => {
    expect(encodeFrame(responseCarrying('x'.repeat(CHUNK_CHARS - 200)))).toHaveLength(1);
    expect(encodeFrame(responseCarrying('x'.repeat(CHUNK_CHARS * 2))).length).toBeGreaterThanOrEqual(3);
  });
});

describe('whole messages for a peer that takes them', () => {
  it('sends a 5 MiB frame as one message to a peer that takes 8 Mi, and it decodes there', () => {
    const frame = responseCarrying('x"é'.repeat(1024 * 1024));
    const messages = encodeFrame(frame, sendingLimits(WHOLE_MESSAGE_CHARS));
    expect(messages).toEqual([JSON.stringify(frame)]);
    expect(new FrameDecoder({ ...DEFAULT_LIMITS, maxFrameChars: WHOLE_MESSAGE_CHARS }).decode(messages[0]!)).toEqual(frame);
  });

  it('chunks past what the peer takes, and past WHOLE_MESSAGE_CHARS whatever the peer says', () => {
    const frame = responseCarrying('x'.repeat(2 * 1024 * 1024));
    expect(encodeFrame(frame, sendingLimits(1024 * 1024)).length).toBeGreaterThan(1);
    const huge = responseCarrying('x'.repeat(WHOLE_MESSAGE_CHARS + 10));
    const messages = encodeFrame(huge, sendingLimits(64 * 1024 * 1024));
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) expect(message.length).toBeLessThanOrEqual(MAX_FRAME_CHARS);
    expect(decodeAll(new FrameDecoder(), messages)).toEqual([huge]);
  });

  it('still refuses a frame over maxMessageChars, whole or not', () => {
    const limits: FramingLimits = { ...DEFAULT_LIMITS, chunkChars: 100, maxMessageChars: 1000, wholeChars: 100_000 };
    expect(codeOf(() => encodeFrame(responseCarrying('x'.repeat(2000)), limits))).toBe('FRAME_TOO_LARGE');
  });

  it('a peer that said nothing gets the chunking of before', () => {
    expect(sendingLimits(undefined)).toBe(DEFAULT_LIMITS);
    expect(sendingLimits(WHOLE_MESSAGE_CHARS)).toBe(sendingLimits(WHOLE_MESSAGE_CHARS));
  });
});

describe('requestFrameText', () => {
  it('is the text JSON.stringify gives for the frame, with the params text inside as it is', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 128 }), fc.string({ minLength: 1, maxLength: 128 }), fc.jsonValue({ maxDepth: 3 }), (id, method, params) => {
        const frame = { type: 'rpc.request' as const, id, server: 's', session: 'x', method, params, timeoutMs: 1000 };
        expect(requestFrameText(frame, JSON.stringify(params))).toBe(JSON.stringify(frame));
      }),
    );
    const frame = { type: 'rpc.request' as const, id: 'c', server: 's', session: 'x', method: 'tools/call', params: { a: 1 }, timeoutMs: 5 };
    expect(new FrameDecoder().decode(requestFrameText(frame, ' { "a" : 1 } '))).toEqual(frame);
  });

  it('messageFrameText is the text JSON.stringify gives for an mcp.message frame', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 128 }), fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), (session, params) => {
        const frame = { type: 'mcp.message' as const, server: 's', session, message: { jsonrpc: '2.0' as const, id: 1, method: 'm', params } };
        expect(messageFrameText(frame, JSON.stringify(frame.message))).toBe(JSON.stringify(frame));
      }),
    );
  });
});

describe('FrameDecoder: bad input', () => {
  it('invalid JSON is BAD_FRAME and the decoder keeps working', () => {
    const decoder = new FrameDecoder();
    expect(codeOf(() => decoder.decode('{"type": "host.welcome", '))).toBe('BAD_FRAME');
    expect(codeOf(() => decoder.decode('not json at all'))).toBe('BAD_FRAME');
    expectStillWorks(decoder);
  });

  it('an unknown frame type is BAD_FRAME and the decoder keeps working', () => {
    const decoder = new FrameDecoder();
    expect(codeOf(() => decoder.decode(JSON.stringify({ type: 'rpc.teleport', id: 'x' })))).toBe('BAD_FRAME');
    expect(codeOf(() => decoder.decode(JSON.stringify({ id: 'no type' })))).toBe('BAD_FRAME');
    expectStillWorks(decoder);
  });

  it.each([
    ['JSON that is not an object', 42],
    ['null', null],
    ['an array', [welcome]],
    ['hello with a bad host id', { type: 'host.hello', version: '1.0', hostId: 'has space', servers: [] }],
    ['hello with a bad version', { type: 'host.hello', version: 'one', hostId: 'h1', servers: [] }],
    ['request with an empty id', { type: 'rpc.request', id: '', server: 's', session: 'x', method: 'tools/call', timeoutMs: 1000 }],
    ['request with a negative timeout', { type: 'rpc.request', id: 'a', server: 's', session: 'x', method: 'tools/call', timeoutMs: -1 }],
    ['request missing its method', { type: 'rpc.request', id: 'a', server: 's', session: 'x', timeoutMs: 1000 }],
    ['response whose error code is not a number', { type: 'rpc.response', id: 'a', error: { code: 'x', message: 'm' } }],
    ['response with an unknown fault code', { type: 'rpc.response', id: 'a', fault: { code: 'NOPE', message: 'm' } }],
    ['chunk with a negative seq', { type: 'chunk', id: 'c', seq: -1, last: true, data: '' }],
    ['chunk whose data is not a string', { type: 'chunk', id: 'c', seq: 0, last: true, data: 5 }],
  ])('a schema violation (%s) is BAD_FRAME and the decoder keeps working', (_what, value) => {
    const decoder = new FrameDecoder();
    expect(codeOf(() => decoder.decode(JSON.stringify(value)))).toBe('BAD_FRAME');
    expectStillWorks(decoder);
  });

  it('a message over maxFrameChars is FRAME_TOO_LARGE and the decoder keeps working', () => {
    const limits: FramingLimits = { ...DEFAULT_LIMITS, maxFrameChars: 200 };
    const decoder = new FrameDecoder(limits);
    const message = JSON.stringify(responseCarrying('x'.repeat(500)));
    expect(codeOf(() => decoder.decode(message))).toBe('FRAME_TOO_LARGE');
    expectStillWorks(decoder);
  });

  it('a message over the default MAX_FRAME_CHARS is FRAME_TOO_LARGE', () => {
    const message = JSON.stringify(responseCarrying('x'.repeat(MAX_FRAME_CHARS)));
    expect(codeOf(() => new FrameDecoder().decode(message))).toBe('FRAME_TOO_LARGE');
  });

  it('an out-of-order chunk is BAD_FRAME, drops that stream, and a later stream still works', () => {
    const limits: FramingLimits = { ...DEFAULT_LIMITS, chunkChars: 20 };
    const decoder = new FrameDecoder(limits);
    const frame = responseCarrying('y'.repeat(100));
    const messages = encodeFrame(frame, limits);
    expect(messages.length).toBeGreaterThan(3);

    expect(decoder.decode(messages[0]!)).toBeNull();
    expect(codeOf(() => decoder.decode(messages[2]!))).toBe('BAD_FRAME'); // skipped seq 1
    expect(decoder.openStreams).toBe(0);
    // The rest of the broken stream cannot resume it.
    expect(codeOf(() => decoder.decode(messages[1]!))).toBe('BAD_FRAME');

    expect(decodeAll(decoder, encodeFrame(frame, limits))).toEqual([frame]);
    expectStillWorks(decoder);
  });

  it('a stream that does not start at seq 0 is BAD_FRAME', () => {
    const decoder = new FrameDecoder();
    expect(codeOf(() => decoder.decode(chunk('late', 3, false, 'abc')))).toBe('BAD_FRAME');
    expect(decoder.openStreams).toBe(0);
    expectStillWorks(decoder);
  });

  it('a repeated chunk (seq sent twice) is BAD_FRAME', () => {
    const decoder = new FrameDecoder();
    expect(decoder.decode(chunk('dup', 0, false, '{"type":'))).toBeNull();
    expect(codeOf(() => decoder.decode(chunk('dup', 0, false, '{"type":')))).toBe('BAD_FRAME');
    expectStillWorks(decoder);
  });

  it('a reassembled frame over maxMessageChars is FRAME_TOO_LARGE, and the stream is dropped', () => {
    const limits: FramingLimits = { chunkChars: 50, maxFrameChars: 1000, maxMessageChars: 200, maxOpenStreams: 4 };
    const decoder = new FrameDecoder(limits);
    const piece = 'z'.repeat(50);
    expect(decoder.decode(chunk('huge', 0, false, piece))).toBeNull();
    expect(decoder.decode(chunk('huge', 1, false, piece))).toBeNull();
    expect(decoder.decode(chunk('huge', 2, false, piece))).toBeNull();
    expect(decoder.decode(chunk('huge', 3, false, piece))).toBeNull(); // exactly 200: allowed
    expect(codeOf(() => decoder.decode(chunk('huge', 4, false, piece)))).toBe('FRAME_TOO_LARGE');
    expect(decoder.openStreams).toBe(0);
    expectStillWorks(decoder);
  });

  it('refuses more than maxOpenStreams half-received chunk streams at once', () => {
    const limits: FramingLimits = { ...DEFAULT_LIMITS, maxOpenStreams: 3 };
    const decoder = new FrameDecoder(limits);
    for (const id of ['s1', 's2', 's3']) expect(decoder.decode(chunk(id, 0, false, '{'))).toBeNull();
    expect(decoder.openStreams).toBe(3);

    expect(codeOf(() => decoder.decode(chunk('s4', 0, false, '{')))).toBe('FRAME_TOO_LARGE');
    expect(decoder.openStreams).toBe(3);

    // Finishing one stream frees a slot; plain frames pass meanwhile.
    expectStillWorks(decoder);
    expect(decoder.decode(chunk('s1', 1, true, '"type":"host.welcome","version":"1.0"}'))).toEqual(welcome);
    expect(decoder.openStreams).toBe(2);
    expect(decoder.decode(chunk('s4', 0, false, '{'))).toBeNull();
  });

  it('a chunk stream whose content is itself a chunk is BAD_FRAME', () => {
    const decoder = new FrameDecoder();
    const inner = chunk('inner', 0, true, JSON.stringify(welcome));
    expect(codeOf(() => decoder.decode(chunk('outer', 0, true, inner)))).toBe('BAD_FRAME');
    expect(decoder.openStreams).toBe(0);
    expectStillWorks(decoder);
  });

  it('a chunk stream whose content is not a valid frame is BAD_FRAME', () => {
    const decoder = new FrameDecoder();
    expect(decoder.decode(chunk('c', 0, false, '{"type":"host.wel'))).toBeNull();
    expect(codeOf(() => decoder.decode(chunk('c', 1, true, 'come"}')))).toBe('BAD_FRAME'); // missing version
    expect(decoder.openStreams).toBe(0);
    expectStillWorks(decoder);
  });
});
