/**
 * The soak run's clients: REST over fetch, and MCP SDK clients over Streamable HTTP and HTTP+SSE,
 * each loop making one call at a time until told to stop and recording how every call ended.
 * MCP clients answer their servers' sampling requests, and start a new session after any error
 * (a session that ended gets 404; the specification has clients re-initialize).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CreateMessageRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { nextOperation, nextPrivateOperation, samplingReply, type Operation } from './operations.ts';
import type { Outcome, Tally, TransportName } from './tally.ts';

/** A call with no answer this long after it was sent is lost (the gateway's own deadline is 30 s). */
export const LOST_AFTER_MS = 45_000;
/** After an error, a client waits this long before its next call (no tight loop while an edge restarts). */
const PAUSE_AFTER_ERROR_MS = 200;

export interface LoopControl {
  base(): string;
  running(): boolean;
  /** Resolves when the next call may start (the run holds calls back to sample memory at a quiet moment). */
  gate(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settles with the outcome of `work`, or `lost` after LOST_AFTER_MS. */
async function withDeadline(work: Promise<Outcome>): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const lost = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'lost' }), LOST_AFTER_MS)));
  try {
    return await Promise.race([work, lost]);
  } finally {
    clearTimeout(timer);
  }
}

export function errorCode(err: unknown): string {
  if (err instanceof StreamableHTTPError) return `HTTP ${err.code}`;
  if (err instanceof SseError) return `SSE ${err.code ?? 'stream error'}`;
  if (err instanceof McpError) return `JSON-RPC ${err.code}`;
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  if (cause?.code) return cause.code;
  if (err instanceof TypeError) return 'connection failed';
  return err instanceof Error ? `${err.name}: ${err.message.slice(0, 60)}` : 'unknown';
}

function checkResult(op: Operation, result: { content?: unknown; isError?: unknown }, progress: number): Outcome {
  const content = Array.isArray(result.content) ? (result.content as { type?: string; text?: string }[]) : [];
  const text = content[0]?.type === 'text' ? (content[0].text ?? '') : '';
  if (result.isError === true) return { kind: 'error', code: 'tool isError' };
  const wrong = op.check(text);
  if (wrong) return { kind: 'mismatched', detail: wrong };
  if (op.progressSteps !== undefined && progress !== op.progressSteps) {
    return { kind: 'mismatched', detail: `${op.tool}: ${progress} progress notifications for ${op.progressSteps} steps` };
  }
  return { kind: 'correct' };
}

// ---- REST ---------------------------------------------------------------------------------------

export class RestSessions {
  readonly ids: string[] = [];

  async create(base: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) this.ids.push(await newRestSession(base));
  }

  pick(): number {
    return Math.floor(Math.random() * this.ids.length);
  }
}

async function newRestSession(base: string): Promise<string> {
  const res = await fetch(`${base}/api/sessionid`);
  if (!res.ok) throw new Error(`GET /api/sessionid: HTTP ${res.status}`);
  return ((await res.json()) as { sessionId: string }).sessionId;
}

/** `next` picks each call (default: the soak's mix, with large echoes of `largeBytes`). */
export async function restLoop(control: LoopControl, tally: Tally, sessions: RestSessions, largeBytes: number, next = () => nextOperation(largeBytes)): Promise<void> {
  while (control.running()) {
    await control.gate();
    const op = next();
    const slot = sessions.pick();
    const done = tally.start('rest', `${op.server}/${op.tool}`);
    const outcome = await withDeadline(restCall(control.base(), sessions.ids[slot]!, op));
    done(outcome);
    if (outcome.kind === 'error') {
      if (outcome.code === 'SESSION_NOT_FOUND') sessions.ids[slot] = await newRestSession(control.base()).catch(() => sessions.ids[slot]!);
      await pause(PAUSE_AFTER_ERROR_MS);
    }
  }
}

async function restCall(base: string, session: string, op: Operation): Promise<Outcome> {
  try {
    const res = await fetch(`${base}/api/${op.server}/${op.tool}?sessionId=${session}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(op.args),
    });
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      return { kind: 'error', code: `HTTP ${res.status} (not JSON)` };
    }
    if (res.status !== 200) return { kind: 'error', code: String(body?.error?.code ?? `HTTP ${res.status}`) };
    // REST gives no progress notifications: only the result is checked.
    return checkResult({ ...op, progressSteps: undefined }, body, 0);
  } catch (err) {
    return { kind: 'error', code: errorCode(err) };
  }
}

// ---- MCP --------------------------------------------------------------------------------------------

export interface McpLoopOptions {
  transport: Exclude<TransportName, 'rest'>;
  /** `private` sessions have their own server process and get sampling requests. */
  server: 'everything' | 'private';
  largeBytes: number;
  /** Picks each call; default: the soak's mix (sampling and echoes on `private`). */
  next?: () => Operation;
  /** Counts each session this loop opens. */
  onSession(): void;
}

export async function mcpLoop(control: LoopControl, tally: Tally, opts: McpLoopOptions): Promise<void> {
  let session: McpSession | undefined;
  try {
    while (control.running()) {
      if (!session) {
        session = await connect(control, opts).catch(() => undefined);
        if (!session) {
          await pause(PAUSE_AFTER_ERROR_MS);
          continue;
        }
        opts.onSession();
      }
      await control.gate();
      const op = opts.next ? opts.next() : opts.server === 'private' ? nextPrivateOperation() : nextOperation(opts.largeBytes);
      const done = tally.start(opts.transport, `${op.server}/${op.tool}`);
      const outcome = await withDeadline(mcpCall(session, op));
      done(outcome);
      if (outcome.kind !== 'correct') {
        const old = session;
        session = undefined;
        void old.client.close().catch(() => {});
        await pause(PAUSE_AFTER_ERROR_MS);
      }
    }
  } finally {
    await session?.client.close().catch(() => {});
  }
}

/**
 * A connected client, and the progress notifications it received, counted per token as they
 * arrive from the transport (the SDK client itself drops a progress notification that arrives
 * in the same read as its response: it handles notifications a microtask later).
 */
interface McpSession {
  client: Client;
  progress: Map<string, number>;
  /** Progress notifications for a token this client never sent: another call's. */
  foreign: string[];
  /** Set when the stream carrying this session's answers is gone for good. */
  streamLost?: string;
}

/**
 * Whether a transport error means the stream that carries this session's answers is gone for
 * good: an HTTP+SSE stream that broke (the session ends with it), or a Streamable HTTP stream
 * the SDK could not resume (its session is gone: 404). The SDK client reports these through
 * `onerror` but leaves the requests waiting on that stream pending forever; a client that
 * wants every call answered has to close, which fails them (what this client does).
 */
function streamGone(err: Error): string | undefined {
  if (err instanceof SseError) return 'SSE stream broke';
  if (/Maximum reconnection attempts/.test(err.message)) return 'stream not resumable';
  return undefined;
}

async function connect(control: LoopControl, opts: McpLoopOptions): Promise<McpSession> {
  const client = new Client({ name: 'soak', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const first = request.params.messages[0]?.content;
    const question = first && !Array.isArray(first) && first.type === 'text' ? first.text : '';
    return { model: 'soak', role: 'assistant', content: { type: 'text', text: samplingReply(question) } };
  });
  const base = control.base();
  const transport = opts.transport === 'streamable' ? new StreamableHTTPClientTransport(new URL(`${base}/${opts.server}/mcp`)) : new SSEClientTransport(new URL(`${base}/${opts.server}`));
  try {
    await client.connect(transport, { timeout: 30_000 });
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  const session: McpSession = { client, progress: new Map(), foreign: [] };
  client.onerror = (err) => {
    const gone = streamGone(err);
    if (gone && !session.streamLost) {
      session.streamLost = gone;
      void client.close().catch(() => {});
    }
  };
  const wire = transport as Transport;
  const deliver = wire.onmessage!;
  wire.onmessage = (message, extra) => {
    if ('method' in message && message.method === 'notifications/progress') {
      const token = String((message.params as { progressToken?: unknown }).progressToken);
      if (session.progress.has(token)) session.progress.set(token, session.progress.get(token)! + 1);
      else session.foreign.push(token);
    }
    deliver(message, extra);
  };
  return session;
}

let tokens = 0;

async function mcpCall(session: McpSession, op: Operation): Promise<Outcome> {
  const token = op.progressSteps === undefined ? undefined : `soak-progress-${++tokens}-${Math.random().toString(36).slice(2, 8)}`;
  if (token) session.progress.set(token, 0);
  try {
    const result = await session.client.callTool(
      { name: op.tool, arguments: op.args, ...(token ? { _meta: { progressToken: token } } : {}) },
      undefined,
      { timeout: LOST_AFTER_MS + 5000 },
    );
    if (session.foreign.length) return { kind: 'mismatched', detail: `progress for tokens this client never sent: ${session.foreign.join(', ')}` };
    return checkResult(op, result as { content?: unknown; isError?: unknown }, token ? session.progress.get(token)! : 0);
  } catch (err) {
    return { kind: 'error', code: session.streamLost ? `stream lost (${session.streamLost})` : errorCode(err) };
  } finally {
    if (token) session.progress.delete(token);
  }
}
