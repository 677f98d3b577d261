/**
 * How deeply a JSON text nests, checked on the text before it is parsed. Parsing deep JSON is
 * fine, but structured clone (Worker to Durable Object RPC) and recursive code overflow their
 * stack somewhere past a thousand levels; no MCP message comes anywhere near the caps.
 */

/**
 * True when `text` opens more than `limit` arrays or objects inside one another. Linear, no
 * recursion. A string's contents are skipped with `indexOf` (native) from quote to quote rather
 * than read character by character: most of a large message is the text inside its strings.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  // The next backslash at or after where a string's end is looked for (-1: none left), found lazily.
  let escape = -2;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: its end is the next quote that no backslash escapes.
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote === -1) return false; // unterminated: nothing after it counts
        if (escape !== -1 && escape < from) escape = text.indexOf('\\', from);
        if (escape === -1 || escape > quote) {
          i = quote;
          break;
        }
        from = escape + 2; // the backslash and the character it escapes
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
