/**
 * The edge on this machine, the fast way: the same Worker and Durable Object that
 * `wrangler deploy` ships, bundled with esbuild and run on workerd through Miniflare's API,
 * without `wrangler dev`'s proxy process and per-request tracing (see docs/local-runtime.md).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from 'miniflare';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface LocalEdgeOptions {
  hostname: string;
  port: number;
  /** Extra bindings (vars and secrets) on top of wrangler.toml's [vars]. */
  bindings: Record<string, string>;
}

export interface LocalEdge {
  /** Where the edge listens, e.g. http://127.0.0.1:3000 */
  url: URL;
  dispose(): Promise<void>;
}

export async function bundleEdge(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(ROOT, 'edge/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2023',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export async function startLocalEdge(opts: LocalEdgeOptions): Promise<LocalEdge> {
  // Offline by design: no fetch of the `request.cf` sample, no wrangler metrics.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
  process.env.WRANGLER_SEND_METRICS ??= 'false';
  // wrangler.toml stays the one source of compatibility date, Durable Objects and vars.
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(ROOT, 'wrangler.toml')) as {
    workerOptions: Record<string, unknown> & { bindings?: Record<string, unknown> };
  };
  const code = await bundleEdge();
  const worker = {
    ...workerOptions,
    name: 'mcp-gateway',
    rootPath: ROOT,
    modules: [{ type: 'ESModule', path: path.join(ROOT, 'edge/index.js'), contents: code }],
    bindings: { ...workerOptions.bindings, ...opts.bindings },
  };
  // wrangler describes the Worker in Miniflare's v4 option shape; Miniflare converts it.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: opts.hostname,
      port: opts.port,
      log: new Log(LogLevel.WARN),
      workers: [worker],
    } as unknown as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  const url = await mf.ready;
  return { url, dispose: () => mf.dispose() };
}
