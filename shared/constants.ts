import type { ErrorCode } from './errors.ts';

/** Version of the edge-host frame protocol. A host whose major version differs is refused. */
export const PROTOCOL_VERSION = '1.1';
/** The first frame protocol version whose hosts take the 2026-07-28 frames (`modern.*`). */
export const MODERN_FRAMES_SINCE = '1.1';

/** Largest WebSocket text message either side sends or accepts, in UTF-16 code units. */
export const MAX_FRAME_CHARS = 1024 * 1024;
/** A serialized frame longer than this travels as `chunk` frames of at most this many chars. */
export const CHUNK_CHARS = 256 * 1024;
/**
 * A frame up to this long travels as one WebSocket message, not as chunks, to a side that said it
 * takes messages this long (`maxMessageChars` in host.hello and host.welcome; a side that says
 * nothing gets chunks past CHUNK_CHARS, as before). 8 Mi UTF-16 units are at most 24 MiB of UTF-8,
 * under the 32 MiB a Worker's WebSocket takes (workerd closes with 1009 past it).
 */
export const WHOLE_MESSAGE_CHARS = 8 * 1024 * 1024;
/** Largest frame that may be reassembled from chunks. */
export const MAX_MESSAGE_CHARS = 64 * 1024 * 1024;
/** Chunked frames that may be half-received at once on one connection. */
export const MAX_OPEN_CHUNK_STREAMS = 64;

/** Deepest nesting of arrays and objects accepted in a client's JSON body, and in a frame (which wraps one). */
export const MAX_BODY_JSON_DEPTH = 200;
export const MAX_FRAME_JSON_DEPTH = 256;

/** Application-level keepalive: the host sends PING_TEXT, the edge answers PONG_TEXT without waking. */
export const PING_TEXT = 'ping';
export const PONG_TEXT = 'pong';
/**
 * Heartbeats, both ways: the host pings this often; the edge's auto-response costs no wake-up.
 * A link silent for HEARTBEAT_TIMEOUT_MS (no pong at the host, no ping at the edge) is dead:
 * each side notices within 5 s even when the TCP connection stalls without closing. A live
 * link may miss pings for 2.5 s (a busy event loop, a loaded machine) before it counts as
 * silent; a stalled one is noticed 2.5 to 3.25 s after its last ping on an idle machine, which
 * leaves 1.75 s for a loaded one to be late.
 */
export const PING_INTERVAL_MS = 500;
export const HEARTBEAT_TIMEOUT_MS = 3_000;

/**
 * The edge owns a REST call's deadline (rpc.request's timeoutMs) and cancels the call when it
 * passes; the host stops the request only this much later, if no cancel ever arrived.
 */
export const HOST_DEADLINE_GRACE_MS = 5_000;

/*
 * Defaults of the limits users may set. Each limit's bounds, config key and Worker variable are
 * with it in the one table of settings, shared/settings.ts.
 */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const DEFAULT_SSE_KEEPALIVE_MS = 20_000;
export const DEFAULT_MCP_IDLE_MS = 30 * 60 * 1000;

/** A REST session id unused this long is forgotten. */
export const REST_SESSION_TTL_MS = 24 * 60 * 60 * 1000;
/** Host ids and server names: what fits in a URL path segment and a tool-name prefix. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Paths at the root that a server name may not take. */
export const RESERVED_NAMES = new Set(['api', 'agent', 'health', 'docs', 'status', 'mcp', 'openapi', 'sse', 'message', 'oauth', 'authorize']);

/** WebSocket close codes the edge uses towards hosts. */
export const CLOSE_REPLACED = 4001;
export const CLOSE_PROTOCOL_MISMATCH = 4002;
export const CLOSE_BAD_HELLO = 4003;
export const CLOSE_FORBIDDEN = 4004;
/** The edge heard nothing from the host (no ping, no frame) for HEARTBEAT_TIMEOUT_MS. */
export const CLOSE_SILENT = 4008;
/** The connection broke a limit (hello deadline, chunk budget or deadline); the host reconnects. */
export const CLOSE_LIMIT = 4005;
/** Close codes after which a host must not reconnect (retrying cannot help), with the error each means. */
export const REFUSAL_CLOSE_CODES: Readonly<Record<number, ErrorCode>> = {
  [CLOSE_PROTOCOL_MISMATCH]: 'PROTOCOL_MISMATCH',
  [CLOSE_BAD_HELLO]: 'BAD_HELLO',
  [CLOSE_FORBIDDEN]: 'FORBIDDEN',
};

/** A host connection must have its hello accepted within this time. */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
/** A chunked frame must be complete this long after its first chunk. */
export const DEFAULT_CHUNK_TIMEOUT_MS = 60_000;
/** Characters of half-received chunked frames one host connection may hold; also the largest frame it may send. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** MCP protocol revisions the HTTP transports accept in `MCP-Protocol-Version`. */
export const MCP_PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];
/** Assumed when a Streamable HTTP request has no `MCP-Protocol-Version` header. */
export const MCP_DEFAULT_PROTOCOL_VERSION = '2025-03-26';

/** Bytes an SSE stream may queue for a slow reader before it is closed. */
export const SSE_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Events kept per MCP session for replay after Last-Event-ID. */
export const SSE_BACKLOG_EVENTS = 200;
/** Characters those events may hold together; past it the oldest go first. */
export const SSE_BACKLOG_CHARS = 4 * 1024 * 1024;
/** Sessions of each kind (REST, MCP) one principal may hold at once. */
export const DEFAULT_MAX_SESSIONS_PER_PRINCIPAL = 100;
/** REST calls one client may have in flight at once (past it: 429). */
export const DEFAULT_MAX_CALLS_PER_PRINCIPAL = 64;
/** Server processes one host runs at once (host.maxProcesses): sized for a laptop. */
export const DEFAULT_MAX_PROCESSES = 32;
/** REST tool results longer than this are cut (GPT Actions accept 100,000 characters); 0 never cuts. */
export const DEFAULT_MAX_RESULT_CHARS = 100_000;

/** How long a 2026-07-28 call parked for the client's input waits (and its requestState is valid). */
export const DEFAULT_PARK_TTL_MS = 5 * 60 * 1000;
