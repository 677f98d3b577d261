/**
 * Turning frames into WebSocket messages and back: size caps, chunking of large frames,
 * reassembly, and validation. Used identically by the edge and the host.
 */
import { CHUNK_CHARS, MAX_FRAME_CHARS, MAX_FRAME_JSON_DEPTH, MAX_MESSAGE_CHARS, MAX_OPEN_CHUNK_STREAMS } from './constants.ts';
import { GatewayError } from './errors.ts';
import { nestsDeeperThan } from './json-depth.ts';
import { FrameSchema, type Frame } from './protocol.ts';

export interface FramingLimits {
  chunkChars: number;
  maxFrameChars: number;
  maxMessageChars: number;
  maxOpenStreams: number;
}

export const DEFAULT_LIMITS: FramingLimits = {
  chunkChars: CHUNK_CHARS,
  maxFrameChars: MAX_FRAME_CHARS,
  maxMessageChars: MAX_MESSAGE_CHARS,
  maxOpenStreams: MAX_OPEN_CHUNK_STREAMS,
};

let chunkCounter = 0;
const chunkPrefix = Math.random().toString(36).slice(2, 8);

/** The messages that carry one frame: the frame itself, or chunks of its JSON text. */
export function encodeFrame(frame: Frame, limits: FramingLimits = DEFAULT_LIMITS): string[] {
  const text = JSON.stringify(frame);
  if (text.length <= limits.chunkChars) return [text];
  if (text.length > limits.maxMessageChars) {
    throw new GatewayError('FRAME_TOO_LARGE', `frame of ${text.length} chars exceeds the ${limits.maxMessageChars} limit`);
  }
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
}

/**
 * Reads messages from one connection. `decode` returns a whole frame, or null while a chunked
 * frame is still incomplete; it throws GatewayError (BAD_FRAME, FRAME_TOO_LARGE) on bad input,
 * and the connection stays usable.
 */
export class FrameDecoder {
  readonly #limits: FramingLimits;
  readonly #open = new Map<string, PartialFrame>();

  constructor(limits: FramingLimits = DEFAULT_LIMITS) {
    this.#limits = limits;
  }

  decode(message: string): Frame | null {
    if (message.length > this.#limits.maxFrameChars) {
      throw new GatewayError('FRAME_TOO_LARGE', `message of ${message.length} chars exceeds the ${this.#limits.maxFrameChars} limit`);
    }
    const frame = parseFrame(message);
    if (frame.type !== 'chunk') return frame;

    let partial = this.#open.get(frame.id);
    if (!partial) {
      if (frame.seq !== 0) throw new GatewayError('BAD_FRAME', `chunk ${frame.id} starts at seq ${frame.seq}`);
      if (this.#open.size >= this.#limits.maxOpenStreams) {
        throw new GatewayError('FRAME_TOO_LARGE', `more than ${this.#limits.maxOpenStreams} chunked frames open at once`);
      }
      partial = { parts: [], size: 0 };
      this.#open.set(frame.id, partial);
    }
    if (frame.seq !== partial.parts.length) {
      this.#open.delete(frame.id);
      throw new GatewayError('BAD_FRAME', `chunk ${frame.id} out of order: got ${frame.seq}, expected ${partial.parts.length}`);
    }
    partial.size += frame.data.length;
    if (partial.size > this.#limits.maxMessageChars) {
      this.#open.delete(frame.id);
      throw new GatewayError('FRAME_TOO_LARGE', `chunked frame ${frame.id} exceeds the ${this.#limits.maxMessageChars} limit`);
    }
    partial.parts.push(frame.data);
    if (!frame.last) return null;
    this.#open.delete(frame.id);
    const inner = parseFrame(partial.parts.join(''));
    if (inner.type === 'chunk') throw new GatewayError('BAD_FRAME', 'a chunked frame may not contain another chunk');
    return inner;
  }

  /** Chunked frames still waiting for their last piece. */
  get openStreams(): number {
    return this.#open.size;
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
