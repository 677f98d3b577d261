import { describe, expect, it } from 'vitest';
import { decodesToItself, hostnameOf } from './request-url.ts';

describe('request URL helpers', () => {
  it('reads the host name from the URL text as new URL does for plain authorities', () => {
    for (const url of ['http://127.0.0.1:8787/api/x?sessionId=a', 'https://gw.example.com/mcp', 'http://LOCALHOST:80', 'http://[::1]:8787/x']) {
      expect(hostnameOf(url)).toBe(new URL(url).hostname.replace(/^\[|\]$/g, ''));
    }
  });

  it('gives something other than an allowed name for unusual authorities, so the caller asks new URL', () => {
    expect(hostnameOf('http://evil@127.0.0.1/')).not.toBe('127.0.0.1');
    expect(hostnameOf('http://127.0.0.%31/')).not.toBe('127.0.0.1');
  });

  it('says which URLs decode to themselves', () => {
    expect(decodesToItself('http://h/api/s/echo?sessionId=abc')).toBe(true);
    expect(decodesToItself('http://h/api/s%0a/echo')).toBe(false);
    expect(decodesToItself('http://h/api/s/echo?sessionId=a+b')).toBe(false);
    expect(decodesToItself('http://h/api/s\u2028/echo')).toBe(false);
    expect(decodesToItself('http://h/api/s\u0085/echo')).toBe(false);
    expect(decodesToItself('http://h/api/s é/echo')).toBe(false);
  });
});
