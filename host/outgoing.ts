/**
 * How a frame leaves the host for the edge: as the ASCII bytes it carries (a large result or
 * message passed on as it came), as one or more WebSocket messages of its text, or not at all
 * when the edge would refuse it (too large, or nested too deeply), with the error to send its
 * caller instead.
 */
import { GatewayError } from '../shared/errors.ts';
import { chunkFrameText, goesWhole, type FramingLimits } from '../shared/framing.ts';
import type { Frame } from '../shared/protocol.ts';
import { carriedTooDeep, refusal, tooDeep } from './deep-frames.ts';
import { standInFor } from './oversize.ts';
import { frameBytes, frameText } from './raw-json.ts';

export type Outgoing =
  | { bytes: Buffer; messages?: undefined }
  | { messages: string[]; bytes?: undefined }
  /** Not sent: why (for the log), and what to send in its place, if anything. */
  | { refused: 'too large' | 'too deep'; reason?: string; instead: Frame | undefined; bytes?: undefined; messages?: undefined };

export function outgoing(frame: Frame, framing: FramingLimits): Outgoing {
  // A large result or message that came as ASCII bytes goes as bytes (one a character), whole.
  const raw = frameBytes(frame);
  let text: string | undefined;
  let messages: string[] | undefined;
  try {
    if (raw === undefined || !goesWhole(raw.bytes.length, framing)) messages = chunkFrameText((text = frameText(frame)), framing);
  } catch (err) {
    if (!(err instanceof GatewayError) || err.code !== 'FRAME_TOO_LARGE') throw err;
    // Refused here, before sending: the edge would close the connection over it.
    return { refused: 'too large', reason: err.message, instead: standInFor(frame, err.message) };
  }
  if ((frame.type === 'rpc.response' || frame.type === 'mcp.message') && (text !== undefined ? tooDeep(text) : carriedTooDeep(raw!.carried))) {
    return { refused: 'too deep', instead: refusal(frame) };
  }
  return messages === undefined ? { bytes: raw!.bytes } : { messages };
}
