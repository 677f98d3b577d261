/**
 * What the middleware reads from the request URL, without a `new URL` per request where the URL
 * text alone decides: a URL of visible ASCII with no `%` and no `+` decodes to itself (request
 * URLs normally come with control, space and non-ASCII characters percent-encoded; any that do
 * not take the full path).
 */

/** The request's URL, parsed at most once per request however many checks ask for it. */
const parsed = new WeakMap<Request, URL>();

export function parsedUrl(request: Request): URL {
  let url = parsed.get(request);
  if (!url) parsed.set(request, (url = new URL(request.url)));
  return url;
}

/** Anything but visible ASCII, and the characters that decoding changes. */
const NOT_PLAIN = /[^\x21-\x7e]|[%+]/;

/**
 * True when `url` is visible ASCII only and no part of it changes when percent-decoded (no `%`)
 * or form-decoded (no `+`): it then holds no control character, encoded or not.
 */
export function decodesToItself(url: string): boolean {
  return !NOT_PLAIN.test(url);
}

/**
 * The host name of an absolute `http(s)://host[:port]/...` URL, read from its text (lowercased,
 * IPv6 brackets removed). It can differ from `new URL(url).hostname` for unusual authorities
 * (user info, percent-encoding, a trailing dot): callers may only use a match with a known name
 * as a fast yes, and must ask `new URL` otherwise.
 */
export function hostnameOf(url: string): string {
  const start = url.indexOf('//') + 2;
  let end = url.indexOf('/', start);
  if (end < 0) end = url.length;
  const authority = url.slice(start, end);
  if (authority.startsWith('[')) return authority.slice(1, authority.indexOf(']')).toLowerCase();
  const colon = authority.lastIndexOf(':');
  return (colon < 0 ? authority : authority.slice(0, colon)).toLowerCase();
}
