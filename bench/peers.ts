/**
 * The single-process peers the gateway is compared with, as installed devDependencies:
 * supergateway 4.0 (one process per transport) and mcp-proxy 6.7 (one process per transport, so
 * each one's memory and CPU are its own). Each runs in its own process group on a free port.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { processTree, sleep } from './gateway.ts';
import { freePort } from '../scripts/procs.ts';
import { outputTail } from './proc.ts';

export interface Service {
  name: string;
  pid: number;
  port: number;
  tail(): string;
  stop(): Promise<void>;
  kill(): void;
}

export interface PeerSpec {
  name: string;
  transport: 'streamable' | 'sse';
  /** Where its MCP endpoint is, given the port. */
  url(port: number): string;
  /** The command line, given the port and the MCP server's command. */
  argv(root: string, port: number, server: string[]): string[];
}

const bin = (root: string, name: string) => path.join(root, 'node_modules/.bin', name);

export const PEERS: PeerSpec[] = [
  {
    name: 'supergateway SSE',
    transport: 'sse',
    url: (port) => `http://127.0.0.1:${port}/sse`,
    argv: (root, port, server) => [bin(root, 'supergateway'), '--stdio', server.join(' '), '--port', String(port), '--logLevel', 'none'],
  },
  {
    name: 'supergateway Streamable',
    transport: 'streamable',
    url: (port) => `http://127.0.0.1:${port}/mcp`,
    argv: (root, port, server) => [
      bin(root, 'supergateway'), '--stdio', server.join(' '), '--outputTransport', 'streamableHttp', '--stateful',
      '--port', String(port), '--logLevel', 'none',
    ],
  },
  {
    name: 'mcp-proxy SSE',
    transport: 'sse',
    url: (port) => `http://127.0.0.1:${port}/sse`,
    argv: (root, port, server) => [bin(root, 'mcp-proxy'), '--host', '127.0.0.1', '--port', String(port), '--server', 'sse', '--', ...server],
  },
  {
    name: 'mcp-proxy Streamable',
    transport: 'streamable',
    url: (port) => `http://127.0.0.1:${port}/mcp`,
    argv: (root, port, server) => [bin(root, 'mcp-proxy'), '--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--', ...server],
  },
];


function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a peer on the Node running the benchmark, and waits until its port accepts connections. */
export async function startPeer(spec: PeerSpec, root: string, server: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, spec.argv(root, port, server), { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  const tail = outputTail([child.stdout, child.stderr]);
  const { kill, stop } = processTree(pid, 3000);
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`${spec.name} exited before listening\n${tail()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${spec.name} did not listen on port ${port} within ${timeoutMs} ms\n${tail()}`);
    }
    await sleep(25);
  }
  return { name: spec.name, pid, port, tail, stop, kill };
}
