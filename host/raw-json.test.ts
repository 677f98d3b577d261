import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../shared/protocol.ts';
import { memberSpan, memberText } from '../shared/json-spans.ts';
import { frameBytes, frameText, messageBytes, messageText, rememberFrameText, rememberText } from './raw-json.ts';

describe('memberText', () => {
  it('is the text of the value JSON.parse gives for the key, however the object is written', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (others, result, spaced) => {
        const value = { ...others, result };
        const text = spaced ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        const found = memberText(text, 'result');
        // Only a key written with an escape makes it give up (the caller then serializes as usual).
        if (found === undefined) expect(Object.keys(others).some((k) => JSON.stringify(k).includes('\\'))).toBe(true);
        else expect(JSON.parse(found)).toEqual(JSON.parse(text).result);
      }),
      { numRuns: 1500 },
    );
  });

  it('takes the last of duplicate keys, as JSON.parse does, and leaves escaped keys alone', () => {
    expect(memberText('{"result":1,"id":2,"result":{"x":"\\"}"}}', 'result')).toBe('{"x":"\\"}"}');
    expect(memberText('{"result":{"a":1},"res\\u0075lt":{"b":2}}', 'result')).toBeUndefined();
    expect(memberText('{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}}', 'result')).toBeUndefined();
    expect(memberText('[1,2]', 'result')).toBeUndefined();
    expect(memberText(' { "result" : [ 1 , "a\\\\" ] , "id" : 3 } ', 'result')).toBe('[ 1 , "a\\\\" ]');
  });
});

describe('frameText', () => {
  it('puts a remembered result or message in the frame as its text, and gives the same frame as JSON.stringify', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), fc.string(), (result, id) => {
        const line = JSON.stringify({ result, jsonrpc: '2.0', id: 1 });
        const parsed = JSON.parse(line) as { result: object };
        rememberText(parsed.result, memberText(line, 'result')!);
        const frame: Frame = { type: 'rpc.response', id, result: parsed.result };
        expect(JSON.parse(frameText(frame))).toEqual(JSON.parse(JSON.stringify(frame)));

        const message = JSON.parse(line) as Frame & { jsonrpc: '2.0' };
        rememberText(message, line);
        const relayed: Frame = { type: 'mcp.message', server: 's', session: id || 'x', message };
        expect(JSON.parse(frameText(relayed))).toEqual(JSON.parse(JSON.stringify(relayed)));
      }),
      { numRuns: 500 },
    );
  });

  it('uses the text only for the very object it was parsed into', () => {
    const result = { content: [{ type: 'text', text: 'raw' }] };
    rememberText(result, '{"content":[{"type":"text","text":"raw"}]}');
    expect(frameText({ type: 'rpc.response', id: 'a', result: { ...result } })).toBe(JSON.stringify({ type: 'rpc.response', id: 'a', result }));
    expect(frameText({ type: 'rpc.response', id: 'a', error: { code: 1, message: 'no' } })).toBe('{"type":"rpc.response","id":"a","error":{"code":1,"message":"no"}}');
    const extra = { type: 'rpc.response', id: 'a', result, note: 1 } as Frame;
    expect(frameText(extra)).toBe(JSON.stringify(extra));
  });
});

describe('messageText', () => {
  it("writes a large request's params, or a session's whole message, as the edge sent them, meaning what JSON.stringify gave", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), fc.option(fc.integer(), { nil: undefined }), (params, id) => {
        const frameJson = JSON.stringify({ type: 'rpc.request', id: 'c', server: 's', session: 'x', method: 'tools/call', params, timeoutMs: 5 });
        const frame = JSON.parse(frameJson) as Frame & { params: object };
        rememberFrameText(frame, frameJson);
        const message = id === undefined ? { jsonrpc: '2.0' as const, method: 'tools/call', params: frame.params } : { jsonrpc: '2.0' as const, id, method: 'tools/call', params: frame.params };
        expect(JSON.parse(messageText(message))).toEqual(JSON.parse(JSON.stringify(message)));

        const sessionJson = JSON.stringify({ type: 'mcp.message', server: 's', session: 'x', message: { jsonrpc: '2.0', id: 1, method: 'm', params } });
        const relayed = JSON.parse(sessionJson) as Frame & { message: { jsonrpc: '2.0' } };
        rememberFrameText(relayed, sessionJson);
        expect(JSON.parse(messageText(relayed.message))).toEqual(JSON.parse(JSON.stringify(relayed.message)));
      }),
      { numRuns: 500 },
    );
  });

  it('never writes a line break inside a message: an edge text written over several lines is serialized again', () => {
    const text = '{"type":"rpc.request","id":"c","server":"s","session":"x","method":"tools/call","params":{\n "name": "echo"\r\n},"timeoutMs":5}';
    const frame = JSON.parse(text) as Extract<Frame, { type: 'rpc.request' }>;
    rememberFrameText(frame, text);
    expect(messageText({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: frame.params })).toBe('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}');
  });

  it('serializes anything else as usual', () => {
    const params = { a: 1 };
    rememberText(params, '{"a":1}');
    expect(messageText({ jsonrpc: '2.0', id: 1, method: 'm', params: { a: 1 } })).toBe('{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}}');
    expect(messageText({ jsonrpc: '2.0', id: 1, method: 'm', params, extra: true } as never)).toBe('{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1},"extra":true}');
  });
});

describe('the bytes of an ASCII text', () => {
  const asciiJson = fc.jsonValue({ maxDepth: 3 }).filter((v) => /^[\x00-\x7f]*$/.test(JSON.stringify(v)));

  it("frameBytes is frameText's text, byte for byte, for a result or message that came as ASCII bytes", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), asciiJson), fc.string({ unit: 'grapheme-ascii', minLength: 1 }), (result, id) => {
        const line = JSON.stringify({ result, jsonrpc: '2.0', id: 1 });
        fc.pre(/^[\x00-\x7f]*$/.test(line));
        const bytes = Buffer.from(line);
        const parsed = JSON.parse(line) as { result: object };
        const span = memberSpan(line, 'result')!;
        rememberText(parsed.result, line.slice(span[0], span[1]), bytes.subarray(span[0], span[1]));
        const frame: Frame = { type: 'rpc.response', id, result: parsed.result };
        const raw = frameBytes(frame)!;
        expect(raw.bytes.equals(Buffer.from(frameText(frame)))).toBe(true);
        expect(JSON.parse(raw.bytes.toString())).toEqual(JSON.parse(JSON.stringify(frame)));
        expect(raw.carried).toBe(line.slice(span[0], span[1]));

        const message = JSON.parse(line) as Frame & { jsonrpc: '2.0' };
        rememberText(message, line, bytes);
        const relayed: Frame = { type: 'mcp.message', server: 's', session: id, message };
        expect(frameBytes(relayed)!.bytes.equals(Buffer.from(frameText(relayed)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps no bytes for a text past ASCII, nor for a frame whose names are', () => {
    const text = '{"content":[{"type":"text","text":"é"}]}';
    const result = JSON.parse(text) as object;
    rememberText(result, text, Buffer.from(text));
    expect(frameBytes({ type: 'rpc.response', id: 'a', result })).toBeUndefined();
    expect(frameText({ type: 'rpc.response', id: 'a', result })).toBe(`{"type":"rpc.response","id":"a","result":${text}}`);

    const ascii = '{"content":[]}';
    const other = JSON.parse(ascii) as object;
    rememberText(other, ascii, Buffer.from(ascii));
    expect(frameBytes({ type: 'rpc.response', id: 'é', result: other })).toBeUndefined();
    expect(frameBytes({ type: 'rpc.response', id: 'a', result: other })!.bytes.toString()).toBe(`{"type":"rpc.response","id":"a","result":${ascii}}`);
  });

  it("messageBytes are messageText's text in pieces, for params or a message that came in an ASCII frame", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), asciiJson), fc.option(fc.integer(), { nil: undefined }), (params, id) => {
        const frameJson = JSON.stringify({ type: 'rpc.request', id: 'c', server: 's', session: 'x', method: 'tools/call', params, timeoutMs: 5 });
        fc.pre(/^[\x00-\x7f]*$/.test(frameJson));
        const frame = JSON.parse(frameJson) as Frame & { params: object };
        rememberFrameText(frame, frameJson, Buffer.from(frameJson));
        const message = id === undefined ? { jsonrpc: '2.0' as const, method: 'tools/call', params: frame.params } : { jsonrpc: '2.0' as const, id, method: 'tools/call', params: frame.params };
        expect(Buffer.concat(messageBytes(message)!.map((p) => Buffer.from(p))).toString()).toBe(messageText(message));

        const sessionJson = JSON.stringify({ type: 'mcp.message', server: 's', session: 'x', message: { jsonrpc: '2.0', id: 1, method: 'm', params } });
        const relayed = JSON.parse(sessionJson) as Frame & { message: { jsonrpc: '2.0' } };
        rememberFrameText(relayed, sessionJson, Buffer.from(sessionJson));
        expect(Buffer.concat(messageBytes(relayed.message)!.map((p) => Buffer.from(p))).toString()).toBe(messageText(relayed.message));
      }),
      { numRuns: 300 },
    );
  });

  it('has no pieces for a frame past ASCII, or one that came in chunks (no bytes)', () => {
    const json = '{"type":"rpc.request","id":"c","server":"s","session":"x","method":"tools/call","params":{"name":"é"},"timeoutMs":5}';
    const frame = JSON.parse(json) as Extract<Frame, { type: 'rpc.request' }>;
    rememberFrameText(frame, json, Buffer.from(json));
    expect(messageBytes({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: frame.params })).toBeUndefined();
    expect(messageText({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: frame.params })).toBe('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"é"}}');
    const chunked = JSON.parse(json.replace('é', 'e')) as Extract<Frame, { type: 'rpc.request' }>;
    rememberFrameText(chunked, json.replace('é', 'e'));
    expect(messageBytes({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: chunked.params })).toBeUndefined();
  });
});
