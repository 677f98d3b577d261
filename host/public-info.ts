/** What the host tells the edge about its servers beyond their tools: the `initialize` summary, and failure texts without stderr or command lines. */
import { GatewayError } from '../shared/errors.ts';
import type { FrameOf, ServerInfo } from '../shared/protocol.ts';
import { RpcError } from './instance.ts';
import type { Logger } from './logger.ts';

/**
 * A fault's message as the REST client sees it: a server's stderr and command line stay in this
 * host's log (and on the authenticated /status), never in an API response.
 */
export function publicMessage(log: Logger, err: GatewayError, server: string): string {
  if (err.code !== 'SPAWN_FAILED' && err.code !== 'SERVER_EXITED') return err.message.slice(0, 4000);
  log.warn('a call failed: the server process could not start or ended', { server, code: err.code, detail: err.message });
  return err.code === 'SPAWN_FAILED'
    ? `server ${server} could not start; the host's log has the detail`
    : `server ${server} ended during the call; the host's log has the detail`;
}

/** Why a session ended, as its MCP client may see it: a failed start names no command line. */
export function publicReason(log: Logger, server: string, reason: string): string {
  if (!reason.startsWith('could not start')) return reason;
  log.warn('a session ended: its server process could not start', { server, detail: reason });
  return "the server process could not start; the host's log has the detail";
}

/** The parts of a server's `initialize` answer the edge needs for `server/discover`, within the frame's bounds. */
export function initializeInfo(result: unknown): ServerInfo['initialize'] {
  if (!result || typeof result !== 'object') return undefined;
  const r = result as Record<string, unknown>;
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  return {
    ...(typeof r.protocolVersion === 'string' ? { protocolVersion: r.protocolVersion.slice(0, 64) } : {}),
    ...(isObject(r.capabilities) ? { capabilities: r.capabilities } : {}),
    ...(isObject(r.serverInfo) ? { serverInfo: r.serverInfo } : {}),
    ...(typeof r.instructions === 'string' ? { instructions: r.instructions.slice(0, 64_000) } : {}),
  };
}

/**
 * The answer to the edge for a call that failed: the server's own JSON-RPC error as it gave it,
 * a gateway fault with its public message, or an internal error (logged here, never detailed).
 */
export function failedCallResponse(log: Logger, id: string, server: string, err: unknown): FrameOf<'rpc.response'> {
  if (err instanceof RpcError) return { type: 'rpc.response', id, error: { code: err.code, message: err.message, data: err.data } };
  if (err instanceof GatewayError) return { type: 'rpc.response', id, fault: { code: err.code, message: publicMessage(log, err, server) } };
  log.error('call failed unexpectedly', { error: err instanceof Error ? err.stack : String(err) });
  return { type: 'rpc.response', id, fault: { code: 'INTERNAL', message: 'internal error in the host agent' } };
}
