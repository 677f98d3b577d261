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
