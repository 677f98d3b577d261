/**
 * How deeply a JSON text nests, checked on the text before it is parsed. Parsing deep JSON is
 * fine, but structured clone (Worker to Durable Object RPC) and recursive code overflow their
 * stack somewhere past a thousand levels; no MCP message comes anywhere near the caps.
 */

/**
 * True when `text` opens more than `limit` arrays or objects inside one another. Linear, no
 * recursion. A string's contents are skipped with `indexOf` (native) from quote to quote rather
 * than read character by character: most of a large message is the text inside its strings. An
 * escaped quote costs one more `indexOf`; other escapes cost nothing.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  // Each level takes a character: a text no longer than the limit cannot pass it (most messages).
  if (text.length <= limit) return false;
  if (text.length > FEW_BRACKETS_FROM && fewBrackets(text, limit)) return false;
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: its end is the next quote with an even run of backslashes right before it
      // (the run stops at the string's opening quote at the latest).
      let quote = text.indexOf('"', i + 1);
      for (;;) {
        if (quote === -1) return false; // unterminated: nothing after it counts
        let backslashes = 0;
        while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
        if ((backslashes & 1) === 0) break;
        quote = text.indexOf('"', quote + 1);
      }
      i = quote;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Texts longer than this are first looked at for how many brackets they hold at all. */
const FEW_BRACKETS_FROM = 4096;

/**
 * True when the whole text holds at most `limit` opening brackets, inside strings or not: then
 * nothing can nest deeper than `limit`. Two native scans, stopped at the first `limit + 1`
 * brackets: a large message of prose or markup (quotes and escapes everywhere, few brackets)
 * needs no walk from string to string.
 */
function fewBrackets(text: string, limit: number): boolean {
  let count = 0;
  for (let i = text.indexOf('['); i !== -1 && count <= limit; i = text.indexOf('[', i + 1)) count++;
  for (let i = text.indexOf('{'); i !== -1 && count <= limit; i = text.indexOf('{', i + 1)) count++;
  return count <= limit;
}
