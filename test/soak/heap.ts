/**
 * The live JS heap of a process, read through its inspector (Chrome DevTools protocol): a full
 * collection first (`HeapProfiler.collectGarbage`), then `Runtime.getHeapUsage`. What is left is
 * what the process still holds, unlike its resident memory, which also counts what V8 and the
 * allocator keep for later. The edge's workerd opens its inspector when started with
 * MCP_GATEWAY_WORKERD_INSPECTOR; a host agent with `--inspect=127.0.0.1:0` in NODE_OPTIONS.
 */
import WebSocket from 'ws';

const TIMEOUT_MS = 15_000;

export interface HeapUsage {
  /** Bytes of live objects after a full collection. */
  used: number;
  /** Bytes V8 has committed for its heap (live or not): what it keeps of the system's memory. */
  total: number;
}

type HeapResult = { usedSize?: number; totalSize?: number } | undefined;

/**
 * The heap after a full collection, or undefined if the inspector did not answer. workerd runs
 * an inspector's collection only when its isolate next has an event to handle: `poke` gives it
 * one (a request to the Worker) while the collection waits.
 */
export async function liveHeap(debuggerUrl: string | undefined, poke?: () => Promise<void>): Promise<HeapUsage | undefined> {
  if (!debuggerUrl) return undefined;
  const ws = new WebSocket(debuggerUrl, { perMessageDeflate: false });
  const waiting = new Map<number, (result: HeapResult) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: HeapResult };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  });
  let next = 0;
  const send = (method: string) =>
    new Promise<HeapResult>((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method }));
    });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const read = async () => {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let done = false;
    const collected = send('HeapProfiler.collectGarbage').finally(() => (done = true));
    while (poke && !done) {
      await poke().catch(() => {});
      await Promise.race([collected, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    await collected;
    const usage = await send('Runtime.getHeapUsage');
    return usage?.usedSize === undefined || usage.totalSize === undefined ? undefined : { used: usage.usedSize, total: usage.totalSize };
  };
  try {
    return await Promise.race([read(), new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), TIMEOUT_MS)))]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    ws.terminate();
  }
}

/** The debugger URL of the one worker a workerd inspector lists (at `host:port`). */
export async function workerdDebuggerUrl(address: string): Promise<string | undefined> {
  try {
    const targets = (await (await fetch(`http://${address}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
    return targets[0]?.webSocketDebuggerUrl;
  } catch {
    return undefined;
  }
}

/** The debugger URL a Node process started with `--inspect` printed on its stderr (its latest). */
export function nodeDebuggerUrl(stderr: string): string | undefined {
  const all = [...stderr.matchAll(/Debugger listening on (ws:\/\/\S+)/g)];
  return all.at(-1)?.[1];
}
