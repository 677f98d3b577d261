import { describe, expect, it } from 'vitest';
import { classify, decodeHeaderValue } from './classify.ts';

const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const headers = { protocolVersion: '2026-07-28', method: 'tools/call', name: 'echo' };
const call = (params: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {}, _meta: meta, ...params } });

describe('classify', () => {
  it('leaves initialize, claim-less requests and responses to the 2025 era', () => {
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, {}).kind).toBe('legacy');
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { protocolVersion: '2025-11-25' }).kind).toBe('legacy');
    expect(classify({ jsonrpc: '2.0', id: 1, result: {} }, {}).kind).toBe('legacy');
  });

  it('serves a request with a valid envelope and matching headers statelessly', () => {
    const result = classify(call(), headers);
    expect(result).toMatchObject({ kind: 'modern', notification: false, meta: { protocolVersion: '2026-07-28', clientCapabilities: {} } });
  });

  it('answers the specification errors, with the request id', () => {
    expect(classify(call(), { ...headers, protocolVersion: '2025-11-25' })).toMatchObject({ kind: 'reject', status: 400, code: -32020, id: 1 });
    expect(classify(call(), { ...headers, method: 'tools/list' })).toMatchObject({ status: 400, code: -32020 });
    expect(classify(call(), { ...headers, name: 'other' })).toMatchObject({ status: 400, code: -32020 });
    expect(classify(call(), { protocolVersion: '2026-07-28', method: 'tools/call' })).toMatchObject({ status: 400, code: -32020 });
    expect(classify(call(), { method: 'tools/call', name: 'echo' })).toMatchObject({ status: 400, code: -32020 });
    const future = { ...meta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' };
    expect(classify(call({ _meta: future }), { ...headers, protocolVersion: '2099-01-01' })).toMatchObject({
      status: 400,
      code: -32022,
      data: { supported: ['2026-07-28'], requested: '2099-01-01' },
    });
    expect(classify(call({ _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }), headers)).toMatchObject({ status: 400, code: -32602 });
    expect(classify(call({ _meta: undefined }), headers)).toMatchObject({ status: 400, code: -32602 });
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, { protocolVersion: '2026-07-28' })).toMatchObject({ status: 400, code: -32020 });
  });

  it('accepts a Base64 Mcp-Name and refuses a malformed one', () => {
    expect(decodeHeaderValue(`=?base64?${btoa('echo')}?=`)).toBe('echo');
    expect(decodeHeaderValue('=?base64?***?=')).toBeUndefined();
    expect(classify(call(), { ...headers, name: `=?base64?${btoa('echo')}?=` }).kind).toBe('modern');
  });

  it('takes notifications without headers', () => {
    expect(classify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: meta } }, {})).toMatchObject({ kind: 'modern', notification: true });
  });
});
