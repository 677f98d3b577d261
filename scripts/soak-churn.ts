/**
 * `npm run soak:churn -- --rounds R --sessions S` (or `--calls C [--transport T] [--op O]`): does
 * the gateway's memory grow with sessions opened and ended, or with calls of one kind? The soak's
 * cluster (real edge on workerd, three real hosts), no faults. Each round opens S sessions of
 * each kind (Streamable HTTP, HTTP+SSE, REST), makes a few calls on each and ends them; or, with
 * `--calls`, makes C calls of one operation (`--op`: echo, sum, large, long, sampling; default
 * echo) over one transport (`--transport`: rest on one session, or streamable or sse on 32 MCP
 * sessions kept open across rounds; default rest), 32 at a time. After each round it samples
 * memory with nothing in flight: RSS, the live JS heaps after a full collection, and the Durable
 * Object's state on disk. Memory that keeps growing round after round is held per session (or
 * per call); memory that stops growing is not.
 */
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mcpLoop, restLoop, RestSessions, type LoopControl } from '../test/soak/clients.ts';
import { Cluster } from '../test/soak/cluster.ts';
import { formatMemory, sampleMemory, type MemorySample } from '../test/soak/memory.ts';
import { OPERATIONS } from '../test/soak/operations.ts';
import { SHORT_RUN } from '../test/soak/run.ts';
import { Tally, TRANSPORTS, type TransportName } from '../test/soak/tally.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    sessions: { type: 'string', default: '100' },
    calls: { type: 'string' },
    transport: { type: 'string', default: 'rest' },
    op: { type: 'string', default: 'echo' },
    'large-bytes': { type: 'string', default: String(SHORT_RUN.largeBytes) },
  },
});
const rounds = Number(values.rounds);
const sessions = Number(values.sessions);
const calls = values.calls === undefined ? undefined : Number(values.calls);
const largeBytes = Number(values['large-bytes']);
if (![rounds, sessions, calls ?? 1, largeBytes].every((n) => Number.isInteger(n) && n > 0)) {
  console.error('--rounds, --sessions, --calls and --large-bytes must be positive whole numbers');
  process.exit(2);
}
const transport = values.transport as TransportName;
const pickOp = OPERATIONS[values.op!];
if (!TRANSPORTS.includes(transport) || !pickOp || (values.op === 'sampling' && transport === 'rest')) {
  console.error(`--transport is one of ${TRANSPORTS.join(', ')}; --op one of ${Object.keys(OPERATIONS).join(', ')} (sampling over MCP only)`);
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

const CALLERS = 32;

/**
 * Callers of one kind (the soak's own client loops, every answer checked), let through `count`
 * calls at a time: `round(n)` resolves once n more calls are answered and none is in flight.
 * MCP sessions stay open from round to round (the `private` server's for sampling).
 */
class Callers {
  readonly tally = new Tally();
  #target = 0;
  #opened: Promise<void> = Promise.resolve();
  #open = () => {};
  #stopped = false;
  readonly #loops: Promise<void>[] = [];

  constructor(base: string) {
    const op = () => pickOp!(largeBytes);
    const control: LoopControl = {
      base: () => base,
      running: () => !this.#stopped,
      gate: async () => {
        while (!this.#stopped && this.tally.sent >= this.#target) await this.#opened;
      },
    };
    this.#close();
    if (transport === 'rest') {
      const rest = new RestSessions();
      this.#loops.push(rest.create(base, 1).then(() => Promise.all(Array.from({ length: CALLERS }, () => restLoop(control, this.tally, rest, largeBytes, op)))).then(() => {}));
    } else {
      const server = values.op === 'sampling' ? 'private' : 'everything';
      for (let i = 0; i < CALLERS; i++) this.#loops.push(mcpLoop(control, this.tally, { transport, server, largeBytes, next: op, onSession: () => {} }));
    }
  }

  async round(count: number): Promise<void> {
    this.#target += count;
    this.#open();
    this.#close();
    while (this.tally.calls.length < this.#target || this.tally.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    const wrong = Object.values(this.tally.counts()).reduce((n, c) => n + c.sent - c.correct, 0);
    if (wrong > 0) throw new Error(`${wrong} calls not answered correctly: ${JSON.stringify(this.tally.counts())}`);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#open();
    await Promise.all(this.#loops);
  }

  #close(): void {
    this.#opened = new Promise((resolve) => (this.#open = resolve));
  }
}

const cluster = new Cluster();
const samples: MemorySample[] = [];
let failed = false;
try {
  console.log('starting the edge and 3 hosts');
  await cluster.start();
  samples.push(await sampleMemory(cluster, calls ? 'before any call' : 'before any session', 0));
  const callers = calls ? new Callers(cluster.base) : undefined;
  if (callers) console.log(`rounds of ${calls} ${values.op} calls over ${transport}, ${CALLERS} at a time`);
  for (let round = 1; round <= rounds; round++) {
    const started = Date.now();
    if (callers) {
      await callers.round(calls!);
    } else {
      await inParallel(sessions, (i) => mcpSession(cluster.base, 'streamable', `s${round}-${i}`));
      await inParallel(sessions, (i) => mcpSession(cluster.base, 'sse', `e${round}-${i}`));
      await inParallel(sessions, (i) => restSession(cluster.base, `r${round}-${i}`));
    }
    const sample = await sampleMemory(cluster, `after round ${round}`, round * (calls ?? sessions * 3 * CALLS_PER_SESSION));
    samples.push(sample);
    const what = calls ? `${calls} ${values.op} calls over ${transport}` : `${sessions * 3} sessions opened and ended`;
    const hosts = Object.entries(sample.hostsKiB).map(([id, k]) => `${id} ${(k / 1024).toFixed(1)}`).join(', ');
    console.log(`round ${round}: ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s; workerd RSS ${(sample.workerdKiB / 1024).toFixed(1)} MiB, heap ${((sample.edgeHeapKiB ?? 0) / 1024).toFixed(1)} MiB; hosts RSS MiB: ${hosts}`);
  }
  await callers?.stop();
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  const orphans = await cluster.stop();
  console.log(`\n${formatMemory(samples).join('\n')}\nserver processes left after the run: ${orphans}`);
  if (orphans > 0) failed = true;
}
process.exit(failed ? 1 : 0);
