/**
 * Which era a POST to /{server}/mcp belongs to, decided per request from its body (as the
 * 2026-07-28 specification has it): a `_meta` protocol-version claim makes it a stateless
 * 2026-07-28 request; `initialize`, or no claim, keeps it on the 2025-era session path. The
 * `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers are cross-checked, never trusted
 * to pick the era on their own. Rejections carry the exact JSON-RPC code and HTTP status.
 */
import {
  HEADER_MISMATCH,
  isModernVersion,
  LOG_LEVELS,
  META_CLIENT_CAPABILITIES,
  META_CLIENT_INFO,
  META_LOG_LEVEL,
  META_PROTOCOL_VERSION,
  MODERN_PROTOCOL_VERSIONS,
  UNSUPPORTED_PROTOCOL_VERSION,
} from '../../shared/mcp2026.ts';

export type RequestId = string | number | null;

export interface ModernMeta {
  protocolVersion: string;
  clientCapabilities: Record<string, unknown>;
  clientInfo?: { name: string; version: string };
  logLevel?: string;
}

export interface ModernMessage {
  jsonrpc: '2.0';
  id?: string | number;
  method: string;
  params: Record<string, unknown>;
}

export type Classified =
  | { kind: 'legacy' }
  | { kind: 'modern'; message: ModernMessage; meta: ModernMeta; notification: boolean }
  | { kind: 'reject'; status: number; id: RequestId; code: number; message: string; data?: unknown };

export interface InboundHeaders {
  protocolVersion?: string;
  method?: string;
  name?: string;
}

/** Methods whose `Mcp-Name` header mirrors a body field. */
const NAME_SOURCE: Record<string, string> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function classify(body: unknown, rawHeaders: InboundHeaders): Classified {
  if (!isObject(body) || typeof body.method !== 'string') return { kind: 'legacy' };
  const headers = trimmed(rawHeaders);
  const method = body.method;
  const isRequest = body.id !== undefined && body.id !== null;
  const id: RequestId = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : null;
  const params = isObject(body.params) ? body.params : undefined;
  const meta = isObject(params?._meta) ? params._meta : undefined;
  const claimed = meta !== undefined && META_PROTOCOL_VERSION in meta;
  const headerModern = headers.protocolVersion !== undefined && isModernVersion(headers.protocolVersion);
  const reject = (status: number, code: number, message: string, data?: unknown): Classified => ({ kind: 'reject', status, id, code, message, ...(data === undefined ? {} : { data }) });
  const mismatch = (header: string, detail: string) => reject(400, HEADER_MISMATCH, `Bad Request: the request headers and body disagree: ${detail}`, { mismatch: { header, body: detail } });

  if (!claimed) {
    if (method === 'initialize') {
      return headerModern ? mismatch(headers.protocolVersion!, 'an initialize request (2025-era handshake) was sent with a 2026-07-28 MCP-Protocol-Version header') : { kind: 'legacy' };
    }
    if (!headerModern) return { kind: 'legacy' };
    if (!isRequest) return { kind: 'modern', message: toMessage(body, method, params), meta: { protocolVersion: headers.protocolVersion!, clientCapabilities: {} }, notification: true };
    const missing = meta === undefined ? ['_meta'] : [META_PROTOCOL_VERSION, ...(isObject(meta[META_CLIENT_CAPABILITIES]) ? [] : [META_CLIENT_CAPABILITIES])];
    return reject(400, -32602, `Invalid params: the MCP-Protocol-Version header names ${headers.protocolVersion}, but the request lacks the per-request _meta key(s): ${missing.join(', ')}`, { envelope: { missing } });
  }

  const issue = envelopeIssue(meta!);
  if (issue) return reject(400, -32602, `Invalid _meta envelope for protocol revision 2026-07-28: ${issue.key}: ${issue.problem}`, { envelope: issue });
  const version = meta![META_PROTOCOL_VERSION] as string;
  if (headers.protocolVersion !== undefined && headers.protocolVersion !== version) {
    return mismatch(headers.protocolVersion, `the body _meta names protocol version ${version} but the MCP-Protocol-Version header names ${headers.protocolVersion}`);
  }
  if (headers.method !== undefined && headers.method !== method) {
    return mismatch(headers.method, `the body names method ${method} but the Mcp-Method header names ${headers.method}`);
  }
  if (!MODERN_PROTOCOL_VERSIONS.includes(version)) {
    const legacy = !isModernVersion(version) ? ' (2025-era versions are served after initialize, with a session)' : '';
    return reject(400, UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version: ${version}${legacy}`, { supported: [...MODERN_PROTOCOL_VERSIONS], requested: version });
  }
  if (isRequest) {
    if (headers.protocolVersion === undefined) return mismatch('(missing)', `the body _meta names protocol version ${version} but the required MCP-Protocol-Version header is absent`);
    if (headers.method === undefined) return mismatch('(missing)', `the body names method ${method} but the required Mcp-Method header is absent`);
    const field = NAME_SOURCE[method];
    const value = field ? params?.[field] : undefined;
    if (field && typeof value === 'string') {
      if (headers.name === undefined) return mismatch('(missing)', `the body carries params.${field}="${value}" but the required Mcp-Name header is absent`);
      const decoded = decodeHeaderValue(headers.name);
      if (decoded === undefined) return mismatch(headers.name, 'the Mcp-Name header carries an invalid Base64 value');
      if (decoded !== value) return mismatch(headers.name, `the body carries params.${field}="${value}" but the Mcp-Name header names "${decoded}"`);
    }
  }
  const envelope: ModernMeta = {
    protocolVersion: version,
    clientCapabilities: meta![META_CLIENT_CAPABILITIES] as Record<string, unknown>,
    ...(isObject(meta![META_CLIENT_INFO]) ? { clientInfo: meta![META_CLIENT_INFO] as ModernMeta['clientInfo'] } : {}),
    ...(typeof meta![META_LOG_LEVEL] === 'string' ? { logLevel: meta![META_LOG_LEVEL] as string } : {}),
  };
  return { kind: 'modern', message: toMessage(body, method, params), meta: envelope, notification: !isRequest };
}

function toMessage(body: Record<string, unknown>, method: string, params: Record<string, unknown> | undefined): ModernMessage {
  const id = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : undefined;
  return { jsonrpc: '2.0', ...(id === undefined ? {} : { id }), method, params: params ?? {} };
}

/** The first problem of a 2026-07-28 `_meta` envelope, or undefined when it is valid. */
export function envelopeIssue(meta: Record<string, unknown>): { key: string; problem: string } | undefined {
  if (!(META_CLIENT_CAPABILITIES in meta)) return { key: META_CLIENT_CAPABILITIES, problem: 'missing' };
  const version = meta[META_PROTOCOL_VERSION];
  if (typeof version !== 'string' || version.length === 0 || version.length > 64) return { key: META_PROTOCOL_VERSION, problem: 'expected a protocol version string' };
  if (!isObject(meta[META_CLIENT_CAPABILITIES])) return { key: META_CLIENT_CAPABILITIES, problem: 'expected an object' };
  const info = meta[META_CLIENT_INFO];
  if (info !== undefined && !(isObject(info) && typeof info.name === 'string' && typeof info.version === 'string')) {
    return { key: META_CLIENT_INFO, problem: 'expected an object with string name and version' };
  }
  const level = meta[META_LOG_LEVEL];
  if (level !== undefined && !(typeof level === 'string' && LOG_LEVELS.includes(level))) return { key: META_LOG_LEVEL, problem: `expected one of ${LOG_LEVELS.join(', ')}` };
  return undefined;
}

/** An `Mcp-Name` value: as it is, or the UTF-8 text of a `=?base64?…?=` value; undefined if that is malformed. */
export function decodeHeaderValue(value: string): string | undefined {
  if (!(value.startsWith('=?base64?') && value.endsWith('?='))) return value;
  const b64 = value.slice(9, -2);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined;
  try {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

function trimmed(h: InboundHeaders): InboundHeaders {
  const t = (v: string | undefined) => (v === undefined ? undefined : v.replace(/^[ \t]+|[ \t]+$/g, ''));
  return { protocolVersion: t(h.protocolVersion), method: t(h.method), name: t(h.name) };
}
