/**
 * Turning frames into WebSocket messages and back: size caps, chunking of large frames,
 * reassembly, and validation. Used identically by the edge and the host.
 */
import { CHUNK_CHARS, MAX_FRAME_CHARS, MAX_FRAME_JSON_DEPTH, MAX_MESSAGE_CHARS, MAX_OPEN_CHUNK_STREAMS, WHOLE_MESSAGE_CHARS } from './constants.ts';
import { GatewayError } from './errors.ts';
import { nestsDeeperThan } from './json-depth.ts';
import { FrameSchema, type Frame, type FrameOf } from './protocol.ts';

export interface FramingLimits {
  /** Size of each chunk's piece of a frame's text. */
  chunkChars: number;
  /** A frame this long or shorter is sent as one message (default: chunkChars); a longer one as chunks. */
  wholeChars?: number;
  /** Longest message accepted (a whole frame, or one chunk). */
  maxFrameChars: number;
  maxMessageChars: number;
  maxOpenStreams: number;
  /** Characters all half-received chunked frames of one connection may hold together (default: maxMessageChars). */
  maxPendingChars?: number;
}

export const DEFAULT_LIMITS: FramingLimits = {
  chunkChars: CHUNK_CHARS,
  maxFrameChars: MAX_FRAME_CHARS,
  maxMessageChars: MAX_MESSAGE_CHARS,
  maxOpenStreams: MAX_OPEN_CHUNK_STREAMS,
};

/**
 * A peer sent more chunked data than one connection may hold (too large, too many open, over the
 * budget). The half-received frame is gone; whoever reads the connection should close it.
 */
export class FrameLimitError extends GatewayError {
  constructor(message: string) {
    super('FRAME_TOO_LARGE', message);
  }
}

/** How long a frame may be to go whole to a peer that takes messages of up to `peerMessageChars`. */
export function wholeCharsFor(peerMessageChars: number): number {
  return Math.min(Math.max(peerMessageChars, CHUNK_CHARS), WHOLE_MESSAGE_CHARS);
}

const sending = new Map<number, FramingLimits>();

/**
 * The limits for sending to a peer that takes messages of up to `peerMessageChars` (what its
 * hello said; undefined for a peer that said nothing: chunks past CHUNK_CHARS, as before).
 * One object per distinct value, kept between calls.
 */
export function sendingLimits(peerMessageChars: number | undefined): FramingLimits {
  if (peerMessageChars === undefined) return DEFAULT_LIMITS;
  const whole = wholeCharsFor(peerMessageChars);
  let limits = sending.get(whole);
  if (!limits) {
    if (sending.size >= 8) sending.clear();
    sending.set(whole, (limits = { ...DEFAULT_LIMITS, wholeChars: whole }));
  }
  return limits;
}

let chunkCounter = 0;
const chunkPrefix = Math.random().toString(36).slice(2, 8);

/** The messages that carry one frame: the frame itself, or chunks of its JSON text. */
export function encodeFrame(frame: Frame, limits: FramingLimits = DEFAULT_LIMITS): string[] {
  return chunkFrameText(JSON.stringify(frame), limits);
}

/**
 * An `rpc.request` frame's JSON text around `paramsText`, the text of its params (valid JSON,
 * checked by whoever parsed it), as `JSON.stringify(frame)` would give it with that text inside.
 */
export function requestFrameText(frame: FrameOf<'rpc.request'>, paramsText: string): string {
  const { id, server, session, method, timeoutMs } = frame;
  return `{"type":"rpc.request","id":${JSON.stringify(id)},"server":${JSON.stringify(server)},"session":${JSON.stringify(session)},"method":${JSON.stringify(method)},"params":${paramsText},"timeoutMs":${timeoutMs}}`;
}

/** An `mcp.message` frame's JSON text around `messageText`, the text of its message (valid JSON, checked by whoever parsed it). */
export function messageFrameText(frame: FrameOf<'mcp.message'>, messageText: string): string {
  return `{"type":"mcp.message","server":${JSON.stringify(frame.server)},"session":${JSON.stringify(frame.session)},"message":${messageText}}`;
}

/**
 * Whether a frame of `chars` characters goes to the peer as one message rather than in chunks;
 * FRAME_TOO_LARGE past the longest frame the limits allow.
 */
export function goesWhole(chars: number, limits: FramingLimits = DEFAULT_LIMITS): boolean {
  if (chars <= limits.chunkChars) return true;
  if (chars > limits.maxMessageChars) {
    throw new GatewayError('FRAME_TOO_LARGE', `frame of ${chars} chars exceeds the ${limits.maxMessageChars} limit`);
  }
  // No chunks where the peer takes the frame in one message: no piece to escape, parse and join.
  return limits.wholeChars !== undefined && chars <= limits.wholeChars;
}

/** The messages that carry one frame already serialized (`JSON.stringify` of a Frame). */
export function chunkFrameText(text: string, limits: FramingLimits = DEFAULT_LIMITS): string[] {
  if (goesWhole(text.length, limits)) return [text];
  const id = `${chunkPrefix}${(chunkCounter++).toString(36)}`;
  const messages: string[] = [];
  for (let offset = 0, seq = 0; offset < text.length; offset += limits.chunkChars, seq++) {
    const data = text.slice(offset, offset + limits.chunkChars);
    const last = offset + limits.chunkChars >= text.length;
    messages.push(JSON.stringify({ type: 'chunk', id, seq, last, data }));
  }
  return messages;
}

interface PartialFrame {
  parts: string[];
  size: number;
  /** When its first chunk arrived (the decoder's clock). */
  startedAt: number;
}

/**
 * Reads messages from one connection. `decode` returns a whole frame, or null while a chunked
 * frame is still incomplete; it throws GatewayError (BAD_FRAME, FRAME_TOO_LARGE) on bad input,
 * and the connection stays usable.
 */
export class FrameDecoder {
  readonly #limits: FramingLimits;
  readonly #open = new Map<string, PartialFrame>();
  readonly #now: () => number;
  #pending = 0;

  constructor(limits: FramingLimits = DEFAULT_LIMITS, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  decode(message: string): Frame | null {
    return this.decodeWithText(message)?.frame ?? null;
  }

  /** As `decode`, with the whole frame's JSON text (the message itself, or its chunks joined). */
  decodeWithText(message: string): { frame: Frame; text: string } | null {
    if (message.length > this.#limits.maxFrameChars) {
      throw new GatewayError('FRAME_TOO_LARGE', `message of ${message.length} chars exceeds the ${this.#limits.maxFrameChars} limit`);
    }
    const frame = parseFrame(message);
    if (frame.type !== 'chunk') return { frame, text: message };

    let partial = this.#open.get(frame.id);
    if (!partial) {
      if (frame.seq !== 0) throw new GatewayError('BAD_FRAME', `chunk ${frame.id} starts at seq ${frame.seq}`);
      if (this.#open.size >= this.#limits.maxOpenStreams) {
        throw new FrameLimitError(`more than ${this.#limits.maxOpenStreams} chunked frames open at once`);
      }
      partial = { parts: [], size: 0, startedAt: this.#now() };
      this.#open.set(frame.id, partial);
    }
    if (frame.seq !== partial.parts.length) {
      this.#drop(frame.id);
      throw new GatewayError('BAD_FRAME', `chunk ${frame.id} out of order: got ${frame.seq}, expected ${partial.parts.length}`);
    }
    if (partial.size + frame.data.length > this.#limits.maxMessageChars) {
      this.#drop(frame.id);
      throw new FrameLimitError(`chunked frame ${frame.id} exceeds the ${this.#limits.maxMessageChars} limit`);
    }
    const budget = this.#limits.maxPendingChars ?? this.#limits.maxMessageChars;
    if (this.#pending + frame.data.length > budget) {
      this.#drop(frame.id);
      throw new FrameLimitError(`half-received chunked frames exceed the budget of ${budget} chars`);
    }
    partial.size += frame.data.length;
    this.#pending += frame.data.length;
    partial.parts.push(frame.data);
    if (!frame.last) return null;
    this.#drop(frame.id);
    const text = partial.parts.join('');
    const inner = parseFrame(text);
    if (inner.type === 'chunk') throw new GatewayError('BAD_FRAME', 'a chunked frame may not contain another chunk');
    return { frame: inner, text };
  }

  /** Chunked frames still waiting for their last piece. */
  get openStreams(): number {
    return this.#open.size;
  }

  /** Characters held by half-received chunked frames. */
  get pendingChars(): number {
    return this.#pending;
  }

  /** When the oldest half-received chunked frame started, or undefined when none is open. */
  get oldestOpenSince(): number | undefined {
    let oldest: number | undefined;
    for (const partial of this.#open.values()) if (oldest === undefined || partial.startedAt < oldest) oldest = partial.startedAt;
    return oldest;
  }

  /** Forgets every half-received frame (the connection is closing). */
  clear(): void {
    this.#open.clear();
    this.#pending = 0;
  }

  #drop(id: string): void {
    const partial = this.#open.get(id);
    if (!partial) return;
    this.#open.delete(id);
    this.#pending -= partial.size;
  }
}

function parseFrame(text: string): Frame {
  if (nestsDeeperThan(text, MAX_FRAME_JSON_DEPTH)) throw new GatewayError('BAD_FRAME', `frame nests deeper than ${MAX_FRAME_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError('BAD_FRAME', 'frame is not valid JSON');
  }
  const parsed = FrameSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new GatewayError('BAD_FRAME', `invalid frame${where}: ${issue?.message ?? 'unknown shape'}`);
  }
  return parsed.data;
}
