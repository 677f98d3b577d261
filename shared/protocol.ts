/**
 * Frames between the edge and a host agent, one JSON object per WebSocket text message.
 * Every frame received is validated against these schemas.
 */
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from './errors.ts';
import { NAME_PATTERN } from './constants.ts';
import { ModernCallFrameSchema, ModernChangedFrameSchema, ModernEventFrameSchema, ModernInputFrameSchema, ModernResumeFrameSchema } from './modern-frames.ts';

const Name = z.string().regex(NAME_PATTERN);
const CallId = z.string().min(1).max(128);
const SessionId = z.string().min(1).max(128);
const errorCodes = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** A tool as an MCP server lists it; kept whole so later layers (OpenAPI) see every field. */
export const ToolSchema = z.looseObject({
  name: z.string().min(1).max(256),
  description: z.string().optional(),
  inputSchema: z.looseObject({}).optional(),
});
export type Tool = z.infer<typeof ToolSchema>;

export const ServerInfoSchema = z.object({
  name: Name,
  tools: z.array(ToolSchema).max(10_000),
  /** Set when the host could not start the server to list its tools. */
  error: z.string().max(2000).optional(),
  /** What the server answered to `initialize` (capabilities, serverInfo, instructions), for `server/discover`. */
  initialize: z
    .looseObject({
      protocolVersion: z.string().max(64).optional(),
      capabilities: z.looseObject({}).optional(),
      serverInfo: z.looseObject({}).optional(),
      instructions: z.string().max(64_000).optional(),
    })
    .optional(),
  /** The server itself speaks MCP 2026-07-28 (it answered `server/discover`): modern requests are relayed to it unchanged. */
  modern: z.boolean().optional(),
});
export type ServerInfo = z.infer<typeof ServerInfoSchema>;

export const HelloFrameSchema = z.object({
  type: z.literal('host.hello'),
  version: z.string().regex(/^\d+\.\d+$/),
  hostId: Name,
  servers: z
    .array(ServerInfoSchema)
    .max(1000)
    .refine((servers) => new Set(servers.map((s) => s.name)).size === servers.length, 'each server may be listed once'),
  /** The longest WebSocket message (characters) the host takes: frames up to it come whole, longer ones as chunks. Absent: chunks past 256 Ki. */
  maxMessageChars: z.number().int().positive().optional(),
});

/** Host to edge: a server's tool list changed (a full restatement of that one server). */
export const ServerUpdateFrameSchema = z.object({
  type: z.literal('server.update'),
  server: ServerInfoSchema,
});

/** Host to edge: how many server processes the host runs, sent when the counts change. */
export const HostStatsFrameSchema = z.object({
  type: z.literal('host.stats'),
  sessions: z.number().int().nonnegative(),
  pooled: z.number().int().nonnegative(),
  watching: z.number().int().nonnegative(),
});

export const WelcomeFrameSchema = z.object({
  type: z.literal('host.welcome'),
  version: z.string(),
  /** The largest frame (in characters of JSON) the edge reassembles from this host; larger ones close the connection. */
  maxFrameChars: z.number().int().positive().optional(),
  /** The longest WebSocket message (characters) the edge takes from this host: frames up to it go whole, longer ones as chunks. Absent: chunks past 256 Ki. */
  maxMessageChars: z.number().int().positive().optional(),
});

/** Edge to host: run one JSON-RPC request on a server instance belonging to a session. */
export const RequestFrameSchema = z.object({
  type: z.literal('rpc.request'),
  id: CallId,
  server: Name,
  session: SessionId,
  method: z.string().min(1).max(256),
  params: z.unknown().optional(),
  timeoutMs: z.number().int().positive().max(3_600_000),
});

export const JsonRpcErrorSchema = z.object({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});

/** Host to edge: the answer to an rpc.request. Exactly one of result, error (from the server) or fault (from the gateway). */
export const ResponseFrameSchema = z.object({
  type: z.literal('rpc.response'),
  id: CallId,
  result: z.unknown().optional(),
  error: JsonRpcErrorSchema.optional(),
  fault: z.object({ code: z.enum(errorCodes), message: z.string().max(4000) }).optional(),
});

export const CancelFrameSchema = z.object({
  type: z.literal('rpc.cancel'),
  id: CallId,
  reason: z.string().max(1000).optional(),
});

export const NotifyFrameSchema = z.object({
  type: z.literal('rpc.notify'),
  server: Name,
  session: SessionId,
  method: z.string().min(1).max(256),
  params: z.unknown().optional(),
});

/** A JSON-RPC message of an MCP session, relayed as it is, in either direction. */
export const JsonRpcMessageSchema = z.looseObject({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string(), z.number()]).nullable().optional(),
  method: z.string().optional(),
});
export type JsonRpcMessage = z.infer<typeof JsonRpcMessageSchema>;

/**
 * An MCP client session's message. Edge to host: from the client (an `initialize` request starts
 * the session's server process). Host to edge: from the session's server process.
 */
export const McpMessageFrameSchema = z.object({
  type: z.literal('mcp.message'),
  server: Name,
  session: SessionId,
  message: JsonRpcMessageSchema,
});

export const SessionCloseFrameSchema = z.object({
  type: z.literal('session.close'),
  server: Name,
  session: SessionId,
});

/** Host to edge: a session's server process ended (exit, crash, idle reap). */
export const SessionClosedFrameSchema = z.object({
  type: z.literal('session.closed'),
  server: Name,
  session: SessionId,
  reason: z.string().max(2000),
});

/** Either side: the frame you sent could not be used. */
export const FrameErrorSchema = z.object({
  type: z.literal('frame.error'),
  id: z.string().max(128).optional(),
  code: z.enum(errorCodes),
  message: z.string().max(4000),
});

/** One piece of a frame too large for one message. `data` pieces concatenate to the frame's JSON text. */
export const ChunkFrameSchema = z.object({
  type: z.literal('chunk'),
  id: z.string().min(1).max(64),
  seq: z.number().int().nonnegative(),
  last: z.boolean(),
  data: z.string(),
});

export const FrameSchema = z.discriminatedUnion('type', [
  HelloFrameSchema,
  ServerUpdateFrameSchema,
  HostStatsFrameSchema,
  WelcomeFrameSchema,
  RequestFrameSchema,
  ResponseFrameSchema,
  CancelFrameSchema,
  NotifyFrameSchema,
  McpMessageFrameSchema,
  SessionCloseFrameSchema,
  SessionClosedFrameSchema,
  FrameErrorSchema,
  ChunkFrameSchema,
  ModernCallFrameSchema,
  ModernResumeFrameSchema,
  ModernInputFrameSchema,
  ModernEventFrameSchema,
  ModernChangedFrameSchema,
]);

export type Frame = z.infer<typeof FrameSchema>;
export type HelloFrame = z.infer<typeof HelloFrameSchema>;
export type RequestFrame = z.infer<typeof RequestFrameSchema>;
export type ResponseFrame = z.infer<typeof ResponseFrameSchema>;
export type ChunkFrame = z.infer<typeof ChunkFrameSchema>;
export type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;

/** Major version of a "major.minor" string. */
export function majorOf(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '', 10);
}
