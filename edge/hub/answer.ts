/**
 * What the Hub answers an MCP POST with, as it crosses Durable Object RPC to the Worker: a
 * `Response` when its body is a stream, otherwise plain data. A Response crosses RPC with its
 * body as a stream of its own (and immutable headers the Worker must copy to add one); a
 * one-message JSON body is cheaper as a string, made into a Response by the Worker.
 */
export interface PlainAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string | null;
}

export type Answer = Response | PlainAnswer;

export function toResponse(answer: Answer): Response {
  return answer instanceof Response ? answer : new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** `toResponse` for an answer that may still be on its way. */
export function responseOf(answer: Answer | Promise<Answer>): Response | Promise<Response> {
  return answer instanceof Promise ? answer.then(toResponse) : toResponse(answer);
}
