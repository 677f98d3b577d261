/**
 * The faults a soak run injects, each with what "done" means (the host is back, the server
 * restarted, ...). The run injects them one after the other at points of its call count and
 * prints each one as it goes.
 */
import { readFileSync } from 'node:fs';
import { descendants } from '../../scripts/procs.ts';
import { health, waitUntil } from '../e2e/harness.ts';
import { HOST_IDS, PROXIED, type Cluster, type HostId } from './cluster.ts';

export interface Fault {
  name: string;
  description: string;
  /** Injects the fault and resolves once the gateway is whole again; returns a note for the report. */
  run(cluster: Cluster): Promise<string>;
}

async function connectedAt(cluster: Cluster): Promise<Map<string, string>> {
  const h = (await health(cluster.base)) as unknown as { hosts: { id: string; connectedAt: string }[] };
  return new Map(h.hosts.map((x) => [x.id, x.connectedAt]));
}

/** Waits until each of `ids` is at the edge on a newer connection than in `before`. */
async function reconnected(cluster: Cluster, ids: readonly HostId[], before: Map<string, string>, timeoutMs = 60_000): Promise<void> {
  await waitUntil(
    async () => {
      const now = await connectedAt(cluster).catch(() => new Map<string, string>());
      return ids.every((id) => now.has(id) && now.get(id) !== before.get(id)) ? true : undefined;
    },
    timeoutMs,
    `${ids.join(', ')} to reconnect`,
  );
}

export const FAULTS: Fault[] = [
  {
    name: 'host-kill',
    description: 'SIGKILL host-a (agent only; its servers die with it), then start it again',
    async run(cluster) {
      const before = await connectedAt(cluster);
      await cluster.killHost('host-a');
      await cluster.startHost('host-a');
      await reconnected(cluster, ['host-a'], before);
      return 'host-a back';
    },
  },
  {
    name: 'server-kill',
    description: "SIGKILL the shared everything process serving host-b's calls",
    async run(cluster) {
      const pid = cluster.killSharedServer('host-b');
      return pid === undefined ? 'no server process found' : `killed pid ${pid}`;
    },
  },
  {
    name: 'link-stall',
    description: "stall host-c's link in the TCP proxy: no data, no close, either way",
    async run(cluster) {
      const before = await connectedAt(cluster);
      const stalledAt = Date.now();
      const stalled = cluster.proxy!.stall();
      await reconnected(cluster, [PROXIED], before);
      return `${stalled} connection(s) stalled; host-c back on a new one${hostSide(cluster.hostOutput(PROXIED), stalledAt)}`;
    },
  },
  {
    name: 'edge-restart',
    description: 'restart the edge (SIGTERM) with --state on the same port',
    async run(cluster) {
      const before = await connectedAt(cluster);
      await cluster.restartEdge();
      await reconnected(cluster, HOST_IDS, before);
      return 'every host back';
    },
  },
  {
    name: 'config-change',
    description: "change everything's env in host-b's config.yaml: the host restarts that server",
    async run(cluster) {
      const generation = cluster.changeConfig('host-b');
      await waitUntil(
        () => (descendants(cluster.hostPid('host-b')).some((pid) => environOf(pid).includes(`SOAK_GENERATION=${generation}\0`)) ? true : undefined),
        30_000,
        `host-b to run everything with generation ${generation}`,
      );
      return `generation ${generation} running`;
    },
  },
  {
    name: 'slow-reader',
    description: 'an HTTP+SSE client that stops reading while up to 60 MiB of answers are sent to it',
    run: slowReader,
  },
];

/**
 * The host's side of a stall, from its own log (each line starts with its ISO time): when it
 * noticed the silence, and when the edge welcomed it back, in seconds after the stall.
 */
export function hostSide(log: string, stalledAt: number): string {
  const after = (pattern: RegExp, from: number) => {
    for (const line of log.split('\n')) {
      const at = Date.parse(line.slice(0, 24));
      if (at >= from && pattern.test(line)) return at;
    }
    return undefined;
  };
  const noticed = after(/the edge stopped answering pings/, stalledAt);
  const welcomed = noticed === undefined ? undefined : after(/connected to the edge/, noticed);
  if (noticed === undefined || welcomed === undefined) return '';
  return ` (host: noticed after ${((noticed - stalledAt) / 1000).toFixed(2)} s, welcomed back after ${((welcomed - stalledAt) / 1000).toFixed(2)} s)`;
}

function environOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return '';
  }
}

/**
 * Opens a legacy SSE stream, reads only its `endpoint` event, then posts large echoes whose
 * answers go to that stream, and never reads again. The gateway must close the stream (its
 * queue is capped) rather than hold the answers; the session then ends (404 on the next POST).
 */
async function slowReader(cluster: Cluster): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(`${cluster.base}/everything`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
  const reader = res.body!.getReader();
  let text = '';
  while (!/event: endpoint\ndata: (\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the SSE stream ended before its endpoint event');
    text += new TextDecoder().decode(value);
  }
  const endpoint = new URL(/event: endpoint\ndata: (\S+)/.exec(text)![1]!, cluster.base).toString();
  const post = (message: object) => fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
  await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'slow-reader', version: '1' } } });
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  // Enough to pass the stream's 16 MiB queue plus what the socket buffers of both ends take in on
  // loopback (several MiB each, as the kernel tunes them): up to 60 MiB, until the session is gone.
  const big = 'y'.repeat(400 * 1024);
  let status = 202;
  for (let i = 1; i <= 150 && status === 202; i++) {
    status = (await post({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { message: big } } })).status;
  }
  try {
    await waitUntil(async () => ((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status === 404 ? true : undefined), 30_000, 'the slow stream to be closed');
    return 'stream closed by the gateway, session ended';
  } finally {
    controller.abort();
  }
}

/**
 * The call counts at which `count` faults are injected over a run of `calls`: evenly spaced, none at
 * its start or end, and all after the first `warmup` calls (the warm-up's memory sample comes first).
 */
export function faultCalls(calls: number, count: number, warmup = 0): number[] {
  return Array.from({ length: count }, (_, i) => warmup + Math.floor(((calls - warmup) * (i + 1)) / (count + 1)));
}
