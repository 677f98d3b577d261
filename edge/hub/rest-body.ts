/**
 * A REST call's body: the tool's (or prompt's) arguments, a JSON object or nothing at all. The
 * Worker parses a small body; a large one crosses to the Hub as its text, which the Hub parses and
 * sends on to the host as it came (no second serialization of a large argument).
 */
import { MAX_BODY_JSON_DEPTH } from '../../shared/constants.ts';
import { GatewayError } from '../../shared/errors.ts';
import { nestsDeeperThan } from '../../shared/json-depth.ts';
import { isOneLine } from '../../shared/json-spans.ts';

/** The body's arguments, parsed once (400 for anything but a JSON object, or an empty body). */
export function argumentsOf(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  if (nestsDeeperThan(body, MAX_BODY_JSON_DEPTH)) throw new GatewayError('BAD_REQUEST', `request body nests arrays and objects deeper than ${MAX_BODY_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new GatewayError('MALFORMED_JSON', 'request body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError('BAD_REQUEST', 'request body must be a JSON object of arguments');
  }
  return value as Record<string, unknown>;
}

/**
 * Whether a body that `argumentsOf` accepted may travel on as its own text: it must hold no line
 * break (the host writes a server's stdin one message per line) and have something in it.
 */
export function passesAsText(body: string): boolean {
  return isOneLine(body) && body.trim() !== '';
}
