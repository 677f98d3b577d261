/**
 * Spans of JSON text: where a member's value sits in an object's text, so that a large value can
 * travel on as the text it arrived as rather than be serialized again. Used by the host (a
 * server's answer, the edge's request) and the edge (a host's answer).
 */

/** Values shorter than this are parsed and serialized again as usual: for them the difference is nothing. */
export const RAW_MIN_CHARS = 64 * 1024;

/**
 * Whether a JSON text holds no line break, so it may travel on as it is where one message takes
 * one line (a server's stdin, an SSE event's data, a log line). JSON with line breaks between
 * its tokens is serialized again instead.
 */
export function isOneLine(text: string): boolean {
  return text.indexOf('\n') === -1 && text.indexOf('\r') === -1;
}

/**
 * The value of a top-level member of a JSON object text, as a span of that text, or undefined.
 * The text must be one JSON.parse accepted; as JSON.parse does, the last of duplicate keys wins.
 * Keys written with escapes are not matched (undefined: the caller serializes as usual).
 */
export function memberText(text: string, key: string): string | undefined {
  const span = memberSpan(text, key);
  return span === undefined ? undefined : text.slice(span[0], span[1]);
}

/** Where `memberText`'s value sits in the text: its first index and the index just past it. */
export function memberSpan(text: string, key: string): [start: number, end: number] | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return undefined;
  i = skipSpace(text, i + 1);
  let found: [number, number] | undefined;
  while (text.charCodeAt(i) === 0x22) {
    const keyEnd = stringEnd(text, i);
    const name = text.slice(i + 1, keyEnd);
    if (name.includes('\\')) return undefined; // an escaped key may be a duplicate JSON.parse sees differently
    i = skipSpace(text, keyEnd + 1);
    if (text.charCodeAt(i) !== 0x3a) return undefined;
    const start = skipSpace(text, i + 1);
    const end = valueEnd(text, start);
    if (name === key) found = [start, end];
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== 0x2c) break;
    i = skipSpace(text, i + 1);
  }
  return found;
}

function skipSpace(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = text.charCodeAt(++i);
  return i;
}

/** Index of the quote that ends the string starting at `start` (a quote). */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** Index just past the JSON value starting at `start`. */
function valueEnd(text: string, start: number): number {
  const c = text.charCodeAt(start);
  if (c === 0x22) return stringEnd(text, start) + 1;
  if (c !== 0x7b && c !== 0x5b) {
    // A number, true, false or null: up to the next delimiter.
    let i = start;
    for (let d = text.charCodeAt(i); i < text.length && d !== 0x2c && d !== 0x7d && d !== 0x5d && d !== 0x20 && d !== 0x09 && d !== 0x0a && d !== 0x0d; d = text.charCodeAt(++i));
    return i;
  }
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d === 0x22) i = stringEnd(text, i);
    else if (d === 0x7b || d === 0x5b) depth++;
    else if ((d === 0x7d || d === 0x5d) && --depth === 0) return i + 1;
  }
  return text.length;
}
