/**
 * `requestState` for calls parked on a host: an opaque token the client echoes with its
 * `inputResponses`. It names where the call waits (host, server, parked process) and is bound to
 * the principal, to the original request (method, name or uri, arguments) and to an expiry, all
 * under an HMAC-SHA256 the edge alone can make. A token that was altered, has expired, or is
 * presented by another principal or with another request is refused.
 */
import { GatewayError } from '../../shared/errors.ts';

export interface ParkedCall {
  hostId: string;
  server: string;
  park: string;
}

interface Payload extends ParkedCall {
  v: 1;
  /** Hash of the principal (the principal itself never leaves the edge). */
  who: string;
  /** Hash of the original request. */
  req: string;
  exp: number;
}

const MAX_TOKEN_CHARS = 4096;
const enc = new TextEncoder();

function b64url(bytes: ArrayBuffer | Uint8Array): string {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromB64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export async function digest(text: string): Promise<string> {
  return b64url(await crypto.subtle.digest('SHA-256', enc.encode(text))).slice(0, 22);
}

/** What a retry must repeat of the original request: its method, target and arguments. */
export function requestIdentity(method: string, params: Record<string, unknown>): string {
  const { name, uri, arguments: args } = params as { name?: unknown; uri?: unknown; arguments?: unknown };
  return JSON.stringify([method, name ?? null, uri ?? null, args ?? null]);
}

export class RequestStates {
  readonly #key: Promise<CryptoKey>;
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(secret: Uint8Array<ArrayBuffer>, ttlMs: number, now: () => number) {
    this.#key = crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  async seal(call: ParkedCall, principal: string, identity: string): Promise<string> {
    const payload: Payload = { v: 1, ...call, who: await digest(principal), req: await digest(identity), exp: this.#now() + this.#ttlMs };
    const body = b64url(enc.encode(JSON.stringify(payload)));
    const mac = await crypto.subtle.sign('HMAC', await this.#key, enc.encode(body));
    return `${body}.${b64url(mac)}`;
  }

  /** The parked call a token names, if it is intact, current, and this principal's and this request's. */
  async open(token: unknown, principal: string, identity: string): Promise<ParkedCall> {
    const refuse = (why: string) => new GatewayError('INVALID_REQUEST_STATE', `requestState refused: ${why}`);
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) throw refuse('not a token this gateway issued');
    const [body, mac, extra] = token.split('.');
    const macBytes = mac === undefined ? undefined : fromB64url(mac);
    if (body === undefined || macBytes === undefined || extra !== undefined) throw refuse('not a token this gateway issued');
    // crypto.subtle.verify compares in constant time.
    if (!(await crypto.subtle.verify('HMAC', await this.#key, macBytes, enc.encode(body)))) throw refuse('integrity check failed');
    let payload: Payload;
    try {
      payload = JSON.parse(new TextDecoder().decode(fromB64url(body))) as Payload;
    } catch {
      throw refuse('integrity check failed');
    }
    if (payload.exp < this.#now()) throw refuse('expired: call again without requestState');
    if (payload.who !== (await digest(principal))) throw refuse('issued to another principal');
    if (payload.req !== (await digest(identity))) throw refuse('issued for another request');
    return { hostId: payload.hostId, server: payload.server, park: payload.park };
  }
}
