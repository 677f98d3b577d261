/**
 * The architecture floor as a target of `npm run bench`: the floor's Worker bundled
 * (bench/floor/build.ts) and the relay (bench/floor/relay.ts) started in a process group of its
 * own, with workerd and the MCP server under it. Its MCP endpoint is `<url>/mcp`, its REST API
 * `<url>/api/...`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree } from '../gateway.ts';
import { outputTail } from '../proc.ts';
import type { Service } from '../peers.ts';
import { buildFloor } from './build.ts';

const RELAY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'relay.ts');

export interface FloorTarget extends Service {
  url: string;
}

export async function startFloorTarget(root: string, server: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<FloorTarget> {
  const built = await buildFloor();
  const child = spawn(process.execPath, [RELAY, built.configFile, ...server], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  const tail = outputTail([child.stdout, child.stderr]);
  const tree = processTree(pid, 3000);
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= tree.stop().then(() => built.remove()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`the architecture floor was not ready within ${timeoutMs} ms\n${tail()}`)), timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the architecture floor's relay exited (${signal ?? code})\n${tail()}`));
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const match = /floor ready at (http:\/\/\S+)/.exec(text);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    const port = Number(new URL(url).port);
    return { name: 'architecture floor', pid, port, url, tail, stop, kill: tree.kill };
  } catch (err) {
    await stop();
    throw err;
  }
}
