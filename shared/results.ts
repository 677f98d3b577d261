/**
 * Keeping a tool result within what a REST client (a custom GPT: 100,000 characters) accepts:
 * the largest text parts are cut, with a marker saying so, instead of the call failing.
 */

export interface ContentPart {
  type?: string;
  text?: string;
  [key: string]: unknown;
}

const marker = (cut: number, total: number) => `\n[… cut by the gateway: ${cut} more characters; the full result was ${total} characters]`;

/** The result as JSON text, cut to at most `maxChars` characters when it is longer (0: never). */
export function fitResult(result: Record<string, unknown>, maxChars: number): string {
  const full = JSON.stringify(result);
  if (maxChars <= 0 || full.length <= maxChars) return full;
  const content = Array.isArray(result.content) ? (result.content as ContentPart[]).map((part) => ({ ...part })) : [];
  const fitted: Record<string, unknown> = { ...result, content, truncated: true };
  // structuredContent repeats what the text says for most tools; it goes first.
  if (fitted.structuredContent !== undefined) delete fitted.structuredContent;
  let excess = JSON.stringify(fitted).length - maxChars;
  // Non-text parts (images, audio, embedded resources) too large to keep become a note.
  for (const [i, part] of content.entries()) {
    if (excess <= 0) break;
    if (part.type === 'text') continue;
    const size = JSON.stringify(part).length;
    if (size > 1000) {
      content[i] = { type: 'text', text: `[${part.type ?? 'content'} of ${size} characters left out by the gateway]` };
      excess -= size - JSON.stringify(content[i]).length;
    }
  }
  // Then cut text parts, largest first, leaving room for the marker.
  const texts = content.filter((p): p is ContentPart & { text: string } => p.type === 'text' && typeof p.text === 'string').sort((a, b) => b.text.length - a.text.length);
  for (const part of texts) {
    if (excess <= 0) break;
    const original = part.text.length;
    const room = Math.max(0, original - excess - 200);
    part.text = part.text.slice(0, room) + marker(original - room, full.length);
    excess = JSON.stringify(fitted).length - maxChars;
  }
  return JSON.stringify(fitted);
}
