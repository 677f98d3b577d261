/**
 * How deeply a JSON text nests, checked on the text before it is parsed. Parsing deep JSON is
 * fine, but structured clone (Worker to Durable Object RPC) and recursive code overflow their
 * stack somewhere past a thousand levels; no MCP message comes anywhere near the caps.
 */

/** True when `text` opens more than `limit` arrays or objects inside one another. Linear, no recursion. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
