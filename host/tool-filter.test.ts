import { describe, expect, it } from 'vitest';
import { filterServerMessage, filterTools, refusal, refusedTool, toolAllowed, unmatchedAllows } from './tool-filter.ts';

const tools = ['read_file', 'read_dir', 'write_file', 'echo'].map((name) => ({ name }));

describe('tool filters', () => {
  it('no filter lets every tool through', () => {
    expect(filterTools(undefined, tools)).toEqual(tools);
    expect(toolAllowed(undefined, 'anything')).toBe(true);
  });

  it('allow keeps only the listed tools, with * wildcards', () => {
    expect(filterTools({ allow: ['echo', 'read_*'] }, tools).map((t) => t.name)).toEqual(['read_file', 'read_dir', 'echo']);
    expect(toolAllowed({ allow: ['echo'] }, 'echo2')).toBe(false);
  });

  it('deny drops the listed tools', () => {
    expect(filterTools({ deny: ['write_*'] }, tools).map((t) => t.name)).toEqual(['read_file', 'read_dir', 'echo']);
  });

  it('regex characters in names are literal', () => {
    expect(toolAllowed({ allow: ['a.b'] }, 'aXb')).toBe(false);
    expect(toolAllowed({ allow: ['a.b'] }, 'a.b')).toBe(true);
  });

  it('names allow entries that match nothing (typos)', () => {
    expect(unmatchedAllows({ allow: ['echo', 'raed_*'] }, tools)).toEqual(['raed_*']);
    expect(unmatchedAllows({ deny: ['nope'] }, tools)).toEqual([]);
  });

  it('refuses tools/call of a filtered tool, and only that', () => {
    expect(refusedTool({ deny: ['echo'] }, 'tools/call', { name: 'echo', arguments: {} })).toBe('echo');
    expect(refusedTool({ deny: ['echo'] }, 'tools/call', { name: 'read_file' })).toBeUndefined();
    expect(refusedTool({ deny: ['echo'] }, 'resources/list', { name: 'echo' })).toBeUndefined();
  });

  it('answers an MCP client calling a filtered tool with Unknown tool, as servers do', () => {
    const answer = refusal({ allow: ['read_*'] }, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo' } });
    expect(answer).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'Unknown tool: echo' } });
    expect(refusal({ allow: ['read_*'] }, { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'read_dir' } })).toBeUndefined();
    // A notification has nobody to answer.
    expect(refusal({ allow: ['read_*'] }, { jsonrpc: '2.0', method: 'tools/call', params: { name: 'echo' } })).toBeUndefined();
  });

  it('filters tools/list results on their way to an MCP client', () => {
    const message = { jsonrpc: '2.0' as const, id: 1, result: { tools, nextCursor: 'c' } };
    const filtered = filterServerMessage({ deny: ['echo', 'write_file'] }, message);
    expect((filtered.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(['read_file', 'read_dir']);
    expect((filtered.result as { nextCursor: string }).nextCursor).toBe('c');
    const other = { jsonrpc: '2.0' as const, id: 2, result: { content: [] } };
    expect(filterServerMessage({ deny: ['echo'] }, other)).toBe(other);
    expect(filterServerMessage(undefined, message)).toBe(message);
  });
});
