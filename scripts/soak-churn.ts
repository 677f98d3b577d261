/**
 * `npm run soak:churn -- --rounds R --sessions S` (or `--calls C`): does the gateway's memory
 * grow with sessions opened and ended, or with calls? The soak's cluster (real edge on workerd,
 * three real hosts), no faults. Each round opens S sessions of each kind (Streamable HTTP,
 * HTTP+SSE, REST), makes a few calls on each and ends them; or, with `--calls`, makes C small
 * REST calls on one session, 32 at a time. After each round it samples memory with nothing in
 * flight: RSS, the live JS heaps after a full collection, and the Durable Object's state on disk.
 * Memory that keeps growing round after round is held per session (or per call); memory that
 * stops growing is not.
 */
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Cluster } from '../test/soak/cluster.ts';
import { formatMemory, sampleMemory, type MemorySample } from '../test/soak/memory.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, sessions: { type: 'string', default: '100' }, calls: { type: 'string' } } });
const rounds = Number(values.rounds);
const sessions = Number(values.sessions);
const calls = values.calls === undefined ? undefined : Number(values.calls);
if (![rounds, sessions, calls ?? 1].every((n) => Number.isInteger(n) && n > 0)) {
  console.error('--rounds, --sessions and --calls must be positive whole numbers');
  process.exit(2);
}
process.env.WRANGLER_SEND_METRICS ??= 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';

const CALLS_PER_SESSION = 3;
const IN_PARALLEL = 20;

async function mcpSession(base: string, transport: 'streamable' | 'sse', tag: string): Promise<void> {
  const client = new Client({ name: 'churn', version: '1.0.0' });
  await client.connect(transport === 'streamable' ? new StreamableHTTPClientTransport(new URL(`${base}/everything/mcp`)) : new SSEClientTransport(new URL(`${base}/everything`)));
  try {
    for (let i = 0; i < CALLS_PER_SESSION; i++) {
      const result = (await client.callTool({ name: 'echo', arguments: { message: `${tag}-${i}` } })) as { content: { text: string }[] };
      if (!result.content[0]?.text.includes(`${tag}-${i}`)) throw new Error(`wrong answer for ${tag}-${i}`);
    }
  } finally {
    // Streamable HTTP: DELETE the session; HTTP+SSE: the stream ends, and the session with it.
    if (transport === 'streamable') await (client.transport as StreamableHTTPClientTransport).terminateSession().catch(() => {});
    await client.close();
  }
}

async function restSession(base: string, tag: string): Promise<void> {
  const { sessionId } = (await (await fetch(`${base}/api/sessionid`)).json()) as { sessionId: string };
  for (let i = 0; i < CALLS_PER_SESSION; i++) {
    const res = await fetch(`${base}/api/everything/echo?sessionId=${sessionId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `${tag}-${i}` }) });
    if (res.status !== 200) throw new Error(`REST call: HTTP ${res.status}`);
    await res.text();
  }
  const end = await fetch(`${base}/api/sessionid/${sessionId}`, { method: 'DELETE' });
  await end.text();
}

async function inParallel(count: number, work: (i: number) => Promise<void>, parallel = IN_PARALLEL): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) await work(next++);
  }));
}

async function restCalls(base: string, sessionId: string, count: number, tag: string): Promise<void> {
  await inParallel(count, async (i) => {
    const res = await fetch(`${base}/api/everything/echo?sessionId=${sessionId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `${tag}-${i}` }) });
    if (res.status !== 200) throw new Error(`REST call: HTTP ${res.status}`);
    await res.text();
  }, 32);
}

const cluster = new Cluster();
const samples: MemorySample[] = [];
let failed = false;
try {
  console.log('starting the edge and 3 hosts');
  await cluster.start();
  samples.push(await sampleMemory(cluster, calls ? 'before any call' : 'before any session', 0));
  const sessionId = ((await (await fetch(`${cluster.base}/api/sessionid`)).json()) as { sessionId: string }).sessionId;
  for (let round = 1; round <= rounds; round++) {
    const started = Date.now();
    if (calls) {
      await restCalls(cluster.base, sessionId, calls, `c${round}`);
    } else {
      await inParallel(sessions, (i) => mcpSession(cluster.base, 'streamable', `s${round}-${i}`));
      await inParallel(sessions, (i) => mcpSession(cluster.base, 'sse', `e${round}-${i}`));
      await inParallel(sessions, (i) => restSession(cluster.base, `r${round}-${i}`));
    }
    const sample = await sampleMemory(cluster, `after round ${round}`, round * (calls ?? sessions * 3 * CALLS_PER_SESSION));
    samples.push(sample);
    const what = calls ? `${calls} calls` : `${sessions * 3} sessions opened and ended`;
    console.log(`round ${round}: ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s; workerd RSS ${(sample.workerdKiB / 1024).toFixed(1)} MiB, heap ${((sample.edgeHeapKiB ?? 0) / 1024).toFixed(1)} MiB`);
  }
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  const orphans = await cluster.stop();
  console.log(`\n${formatMemory(samples).join('\n')}\nserver processes left after the run: ${orphans}`);
  if (orphans > 0) failed = true;
}
process.exit(failed ? 1 : 0);
