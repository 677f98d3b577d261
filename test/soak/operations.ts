/**
 * The calls the soak run makes, each with an answer only it can have: a unique echo, a sum of
 * two random numbers, a long-running operation of a random duration with its progress, a
 * sampling request whose answer the client makes from the server's question. An answer that
 * does not fit its call is a mismatch.
 */
export interface Operation {
  server: 'everything' | 'private';
  tool: string;
  args: Record<string, unknown>;
  /** Progress notifications the call must bring (long-running operations). */
  progressSteps?: number;
  /** null when `text` (the first content block) is this call's answer; otherwise what is wrong. */
  check(text: string): string | null;
}

let counter = 0;
const unique = () => `${Date.now().toString(36)}-${(++counter).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export function echo(bytes = 0): Operation {
  const id = unique();
  const message = bytes > 0 ? `${id}:${'x'.repeat(bytes)}` : `soak ${id}`;
  return {
    server: 'everything',
    tool: 'echo',
    args: { message },
    check: (text) => (text === `Echo: ${message}` ? null : `echo ${id} answered ${JSON.stringify(text.slice(0, 60))}`),
  };
}

export function sum(): Operation {
  const a = Math.floor(Math.random() * 1e9);
  const b = Math.floor(Math.random() * 1e9);
  return {
    server: 'everything',
    tool: 'get-sum',
    args: { a, b },
    check: (text) => (text === `The sum of ${a} and ${b} is ${a + b}.` ? null : `sum ${a}+${b} answered ${JSON.stringify(text.slice(0, 80))}`),
  };
}

export function longRunning(): Operation {
  const duration = Math.round(200 + Math.random() * 600) / 1000;
  const steps = 2 + Math.floor(Math.random() * 3);
  const expected = `Long running operation completed. Duration: ${duration} seconds, Steps: ${steps}.`;
  return {
    server: 'everything',
    tool: 'trigger-long-running-operation',
    args: { duration, steps },
    progressSteps: steps,
    check: (text) => (text === expected ? null : `long-running ${duration}/${steps} answered ${JSON.stringify(text.slice(0, 80))}`),
  };
}

/** The server asks the client (sampling/createMessage); the client's answer comes back in the result. */
export function sampling(): Operation {
  const prompt = `soak-${unique()}`;
  return {
    server: 'private',
    tool: 'trigger-sampling-request',
    args: { prompt, maxTokens: 10 },
    check: (text) => (text.includes(`reply to Resource trigger-sampling-request context: ${prompt}`) ? null : `sampling ${prompt} answered ${JSON.stringify(text.slice(0, 120))}`),
  };
}

/** The reply a soak client gives to a sampling request: made from the question, so it can be checked. */
export function samplingReply(question: string): string {
  return `reply to ${question}`;
}

/** A mix for a shared-server session: mostly echoes, some sums, large results and long-running calls. */
export function nextOperation(largeBytes: number): Operation {
  const r = Math.random();
  if (r < 0.55) return echo();
  if (r < 0.8) return sum();
  if (r < 0.92) return echo(largeBytes);
  return longRunning();
}

/** A mix for a private session: sampling and echoes. */
export function nextPrivateOperation(): Operation {
  if (Math.random() < 0.5) return sampling();
  const op = echo();
  return { ...op, server: 'private' };
}

/** Each kind of call on its own, by name (`npm run soak:churn -- --op`): to find which one memory follows. */
export const OPERATIONS: Record<string, (largeBytes: number) => Operation> = {
  echo: () => echo(),
  sum,
  large: (largeBytes) => echo(largeBytes),
  long: longRunning,
  sampling,
};
