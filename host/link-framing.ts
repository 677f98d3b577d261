/**
 * How the host cuts and takes WebSocket messages on its link to the edge: a frame up to
 * WHOLE_MESSAGE_CHARS goes whole where the edge's welcome says it takes that much, else in chunks.
 */
import { DEFAULT_MAX_FRAME_BYTES, WHOLE_MESSAGE_CHARS } from '../shared/constants.ts';
import { DEFAULT_LIMITS, wholeCharsFor, type FramingLimits } from '../shared/framing.ts';
import type { FrameOf } from '../shared/protocol.ts';

/** What the host takes from the edge: a whole frame of WHOLE_MESSAGE_CHARS in one message. */
export const RECEIVING: FramingLimits = { ...DEFAULT_LIMITS, maxFrameChars: WHOLE_MESSAGE_CHARS };
/** The WebSocket's payload cap: at most 3 bytes of UTF-8 a character, and room for the header. */
export const MAX_PAYLOAD_BYTES = 3 * WHOLE_MESSAGE_CHARS + 64 * 1024;

/** Before a welcome: chunks past 256 Ki, frames up to the default limit. */
export function unwelcomedFraming(): FramingLimits {
  return { ...DEFAULT_LIMITS, maxMessageChars: DEFAULT_MAX_FRAME_BYTES };
}

/** After the edge's welcome: its largest frame, and whole messages up to what it takes (an older edge says nothing: chunks). */
export function welcomedFraming(welcome: FrameOf<'host.welcome'>): FramingLimits {
  return {
    ...DEFAULT_LIMITS,
    maxMessageChars: Math.min(welcome.maxFrameChars ?? DEFAULT_MAX_FRAME_BYTES, DEFAULT_LIMITS.maxMessageChars),
    ...(welcome.maxMessageChars !== undefined ? { wholeChars: wholeCharsFor(welcome.maxMessageChars) } : {}),
  };
}
