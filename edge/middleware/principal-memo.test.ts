import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientAuthSchema } from '../../shared/auth.ts';
import { principalOf } from './auth.ts';
import { MEMO_ENTRIES, MEMO_HEADER_CHARS, rememberedPrincipal, rememberPrincipal } from './principal-memo.ts';

const basicHeader = (user: string, pass: string) => `Basic ${btoa(`${user}:${pass}`)}`;

describe('principals of static credentials, remembered by header', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives the same principal from the memo, without digesting again', async () => {
    const auth = ClientAuthSchema.parse({ bearer: ['token-one', 'token-two'], basic: [{ username: 'u', password: 'p:w' }] });
    const first = await principalOf(auth, 'Bearer token-two');
    const basic = await principalOf(auth, basicHeader('u', 'p:w'));
    expect(first).toMatch(/^bearer:[0-9a-f]{24}$/);
    expect(basic).toMatch(/^basic:[0-9a-f]{24}$/);
    const digest = vi.spyOn(crypto.subtle, 'digest');
    expect(await principalOf(auth, 'Bearer token-two')).toBe(first);
    expect(await principalOf(auth, basicHeader('u', 'p:w'))).toBe(basic);
    expect(digest).not.toHaveBeenCalled();
  });

  it('never remembers a refused header: each attempt takes the full check', async () => {
    const auth = ClientAuthSchema.parse({ bearer: ['token-one'], basic: [{ username: 'u', password: 'p' }] });
    const digest = vi.spyOn(crypto.subtle, 'digest');
    for (let i = 0; i < 2; i++) {
      expect(await principalOf(auth, 'Bearer token-on')).toBeUndefined();
      expect(await principalOf(auth, basicHeader('u', 'q'))).toBeUndefined();
    }
    expect(rememberedPrincipal(auth, 'Bearer token-on')).toBeUndefined();
    expect(digest.mock.calls.length).toBe(2 * (2 + 4)); // the bearer comparison's two digests, Basic's four, twice
  });

  it('keeps a memo per setting: another CLIENT_AUTH does not see the first one\'s entries', async () => {
    const a = ClientAuthSchema.parse({ bearer: ['token-one'] });
    const b = ClientAuthSchema.parse({ bearer: ['token-other'] });
    expect(await principalOf(a, 'Bearer token-one')).toBeDefined();
    expect(await principalOf(b, 'Bearer token-one')).toBeUndefined();
  });

  it('is bounded: the oldest entry goes first, and long headers are not kept', () => {
    const auth = ClientAuthSchema.parse({ bearer: ['t'] });
    for (let i = 0; i <= MEMO_ENTRIES; i++) rememberPrincipal(auth, `Bearer t${' '.repeat(i)}`, `p${i}`);
    expect(rememberedPrincipal(auth, 'Bearer t')).toBeUndefined();
    expect(rememberedPrincipal(auth, 'Bearer t ')).toBe('p1');
    expect(rememberedPrincipal(auth, `Bearer t${' '.repeat(MEMO_ENTRIES)}`)).toBe(`p${MEMO_ENTRIES}`);
    const long = `Bearer ${'x'.repeat(MEMO_HEADER_CHARS)}`;
    rememberPrincipal(auth, long, 'p');
    expect(rememberedPrincipal(auth, long)).toBeUndefined();
  });
});
