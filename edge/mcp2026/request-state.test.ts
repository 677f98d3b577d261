import { describe, expect, it } from 'vitest';
import { requestIdentity, RequestStates } from './request-state.ts';

const call = { hostId: 'laptop', server: 'twin', park: 'p1' };
const identity = requestIdentity('tools/call', { name: 'ask', arguments: { a: 1 } });

function states(now: { t: number }, secret = new Uint8Array(32).fill(7)) {
  return new RequestStates(secret, 60_000, () => now.t);
}

describe('requestState', () => {
  it('opens a token for the principal and request it was sealed for', async () => {
    const s = states({ t: 1000 });
    const token = await s.seal(call, 'bearer:0', identity);
    await expect(s.open(token, 'bearer:0', identity)).resolves.toEqual(call);
  });

  it('refuses a token after its expiry', async () => {
    const now = { t: 1000 };
    const s = states(now);
    const token = await s.seal(call, 'bearer:0', identity);
    now.t += 60_001;
    await expect(s.open(token, 'bearer:0', identity)).rejects.toMatchObject({ code: 'INVALID_REQUEST_STATE', message: expect.stringContaining('expired') });
  });

  it('refuses another principal, another request, and any change to the token', async () => {
    const s = states({ t: 1000 });
    const token = await s.seal(call, 'bearer:0', identity);
    await expect(s.open(token, 'bearer:1', identity)).rejects.toThrow(/another principal/);
    await expect(s.open(token, 'bearer:0', requestIdentity('tools/call', { name: 'ask', arguments: { a: 2 } }))).rejects.toThrow(/another request/);
    const [body, mac] = token.split('.') as [string, string];
    const decoded = JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const forged = btoa(JSON.stringify({ ...decoded, hostId: 'elsewhere' })).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    await expect(s.open(`${forged}.${mac}`, 'bearer:0', identity)).rejects.toThrow(/integrity/);
    await expect(s.open(`${body}.${mac.slice(0, -2)}AA`, 'bearer:0', identity)).rejects.toThrow(/integrity/);
    await expect(s.open('not a token', 'bearer:0', identity)).rejects.toThrow(/not a token/);
    await expect(s.open(42, 'bearer:0', identity)).rejects.toThrow(/not a token/);
  });

  it('refuses a token sealed with another key (another deployment)', async () => {
    const token = await states({ t: 1000 }, new Uint8Array(32).fill(1)).seal(call, 'bearer:0', identity);
    await expect(states({ t: 1000 }).open(token, 'bearer:0', identity)).rejects.toThrow(/integrity/);
  });
});
