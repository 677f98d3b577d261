/**
 * Names and texts for the OpenAPI document: operationIds, component names, clipped summaries.
 * Every name is a pure function of the server and tool it belongs to, so a document built with
 * more servers keeps the names it had.
 */

/** What GPT Actions and most generators accept as an operationId. */
export const OPERATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** What OpenAPI allows as a key of `components.schemas`. */
export const COMPONENT_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

export const MAX_OPERATION_ID = 64;
export const MAX_COMPONENT_NAME = 128;

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`; 7 base-36 digits. */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(7, '0');
}

/**
 * A server name may start a plain `${server}__…` name when the first `__` of that name can only
 * be the separator: no `__` inside it and no `_` at its end. Other names always get a hash.
 */
function isCleanServer(server: string): boolean {
  return !server.includes('__') && !server.endsWith('_');
}

/**
 * `parts` joined by `__` when that is a valid, unambiguous name; else that cut to fit (from the
 * middle when `keepLast`, so the last part stays readable) and a hash of all parts.
 */
function stableName(parts: string[], valid: RegExp, invalidChars: RegExp, max: number, keepLast = false): string {
  const plain = parts.join('__');
  if (isCleanServer(parts[0] ?? '') && plain.length <= max && valid.test(plain)) return plain;
  const hash = `_${shortHash(parts.join('/'))}`;
  const room = max - hash.length;
  let readable = plain.replace(invalidChars, '_');
  if (keepLast && readable.length > room && parts.length > 1) {
    const last = `__${(parts.at(-1) as string).replace(invalidChars, '_')}`.slice(0, Math.floor(room / 2));
    readable = readable.slice(0, room - last.length) + last;
  }
  return readable.slice(0, room) + hash;
}

/**
 * The operationId of the operation calling `tool` on `server`: `${server}__${tool}` when that is
 * valid, else cut to fit and followed by a hash of "server/tool".
 */
export function toolOperationId(server: string, tool: string): string {
  return stableName([server, tool], OPERATION_ID_PATTERN, /[^A-Za-z0-9_-]/g, MAX_OPERATION_ID);
}

/** `name` (valid characters only) when it fits an operationId; else cut to fit and followed by its hash. */
export function fitOperationId(name: string): string {
  return name.length <= MAX_OPERATION_ID ? name : `${name.slice(0, MAX_OPERATION_ID - 8)}_${shortHash(name)}`;
}

/** The name of a schema taken out of a tool's schema into `components.schemas`. */
export function componentName(parts: string[]): string {
  return stableName(parts, COMPONENT_NAME_PATTERN, /[^a-zA-Z0-9._-]/g, MAX_COMPONENT_NAME, true);
}

/**
 * `name`, or when `taken` already holds it, a variant of it that is not taken. Only a deliberate
 * clash of names (a tool named like another's hash) ever takes the second branch.
 */
export function claimName(name: string, taken: Set<string>, max: number): string {
  let candidate = name;
  for (let i = 1; taken.has(candidate); i++) candidate = `${name.slice(0, max - 8)}_${shortHash(`${name}#${i}`)}`;
  taken.add(candidate);
  return candidate;
}

/**
 * `text` when it has at most `max` UTF-16 code units; else cut at the last word boundary that
 * fits (or mid-word when there is none in the second half) and ended with "…".
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  // Never split a surrogate pair.
  if (isLowSurrogate(text.charCodeAt(end))) end--;
  const space = text.slice(0, end + 1).search(/\s\S*$/);
  if (space >= max / 2) end = space;
  return `${text.slice(0, end).trimEnd()}…`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** A one-line text: runs of whitespace (newlines too) become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
