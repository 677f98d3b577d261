/**
 * The edge on this machine, the fast way: the same Worker and Durable Object that
 * `wrangler deploy` ships, bundled with esbuild and run on a workerd process of our own, with
 * nothing in front of the Worker. Miniflare's entry worker, which wraps every request (about
 * 0.35 ms of workerd CPU per request here, see bench/README.md), and `wrangler dev`'s proxy and
 * per-request tracing are all left out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { build, stop as stopEsbuild, type BuildOptions } from 'esbuild';
import { SOCKET_NAME, workerdConfig } from './workerd-config.ts';
import { readEdgeSettings } from './wrangler-toml.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START_TIMEOUT_MS = 30_000;
/** Kills workerd if this process dies without running its exit handlers (SIGKILL, a crash). */
const SETPRIV = '/usr/bin/setpriv';

export interface LocalEdgeOptions {
  hostname: string;
  port: number;
  /** Extra bindings (vars and secrets) on top of wrangler.toml's [vars]. */
  bindings: Record<string, string>;
  /** Where the Durable Object keeps its storage across restarts; default: a temp dir for this run. */
  stateDir?: string;
}

export interface LocalEdge {
  /** Where the edge listens, e.g. http://127.0.0.1:3000 */
  url: URL;
  dispose(): Promise<void>;
}

/**
 * Rejects with the system error (its `code`: EADDRINUSE, EADDRNOTAVAIL, ENOTFOUND, EACCES, ...)
 * when this process cannot listen on the address, so the CLI can say why by code before workerd,
 * which reports the same only as text, is started. Port 0 always works.
 */
export function checkAddress(hostname: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: hostname, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * Imports the Worker reads as text (as wrangler.toml's [[rules]] say for a deploy). Given to workerd
 * as text modules of their own rather than as string literals inside the bundle, whose source
 * workerd's V8 keeps for lazy compilation: about 20 MiB less resident memory in workerd.
 */
const TEXT_MODULES = ['swagger-ui-dist/swagger-ui-bundle.js', 'swagger-ui-dist/swagger-ui.css'];

/**
 * The Worker as one ES module, written to `outfile` by esbuild itself: the bundle (about 3.4 MB,
 * Swagger UI included) never passes through this process, whose heap would otherwise keep the
 * room it took (about 20 MiB of RSS for the life of the agent). esbuild's API runs a service
 * process (about 80 MiB) that would otherwise stay too: it is stopped once the bundle is written.
 */
export async function bundleEdge(outfile: string): Promise<void> {
  try {
    await bundle(outfile);
  } finally {
    await stopEsbuild();
  }
}

/** How a Worker's code is bundled for workerd (as wrangler does it): the gateway's edge, and the benchmark's bare floor. */
export const WORKER_BUNDLE = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2023',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  logLevel: 'silent',
} satisfies BuildOptions;

async function bundle(outfile: string): Promise<void> {
  await build({
    ...WORKER_BUNDLE,
    entryPoints: [path.join(ROOT, 'edge/index.ts')],
    // Swagger UI's files stay out of the bundle: workerd loads them as text modules of their own.
    external: ['cloudflare:*', ...TEXT_MODULES],
    outfile,
    write: true,
  });
}

export async function startLocalEdge(opts: LocalEdgeOptions): Promise<LocalEdge> {
  // wrangler.toml stays the one source of compatibility date, Durable Objects and vars.
  const settings = readEdgeSettings(path.join(ROOT, 'wrangler.toml'));

  // A private temp dir for the config, the bundle and the Durable Objects' SQLite files, removed
  // when the edge stops (like Miniflare's, state lasts one run). Secrets never touch it: workerd
  // takes them from its environment (`fromEnvironment` bindings).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-gateway-edge-'));
  const storageDir = opts.stateDir ? path.resolve(opts.stateDir) : path.join(dir, 'do');
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
  const envBindings: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.bindings)) {
    envBindings[name] = `MCP_GATEWAY_EDGE_BINDING_${name}`;
    env[envBindings[name]] = value;
  }
  let child: ChildProcess;
  try {
    mkdirSync(storageDir, { recursive: true, mode: 0o700 });
    await bundleEdge(path.join(dir, 'index.js'));
    const require = createRequire(import.meta.url);
    const textModules = TEXT_MODULES.map((name, i) => {
      const file = `text-${i}.txt`;
      copyFileSync(require.resolve(name), path.join(dir, file));
      return { name, file };
    });
    const address = `${net.isIPv6(opts.hostname) ? `[${opts.hostname}]` : opts.hostname}:${opts.port}`;
    const config = workerdConfig({ settings, moduleFile: 'index.js', textModules, envBindings, trustedCertificates: trustedCertificates(), storageDir, address });
    writeFileSync(path.join(dir, 'edge.capnp'), config, { mode: 0o600 });
    const workerd = workerdPath();
    const args = ['serve', '--experimental', '--control-fd=3', path.join(dir, 'edge.capnp')];
    // For profiling (bench/profile.ts): workerd's inspector (Chrome DevTools protocol) on this address.
    const inspector = process.env.MCP_GATEWAY_WORKERD_INSPECTOR;
    if (inspector) args.push(`--inspector-addr=${inspector}`);
    const [command, argv] = process.platform === 'linux' && existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', workerd, ...args]]
      : [workerd, args];
    child = spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], windowsHide: true });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  // However this process ends, workerd ends with it (it holds no state worth a graceful stop).
  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onProcessExit = () => {
    killNow();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onProcessExit);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.on('error', () => child.pid === undefined && resolve()); // never started
  });

  // Worker console output goes where this process's goes. Until workerd listens, its stderr is
  // held back: a failed start reports it in the error instead.
  let startStderr: string | undefined = '';
  child.stdout!.pipe(process.stdout, { end: false });
  child.stderr!.on('data', (chunk: Buffer) => {
    if (startStderr === undefined) process.stderr.write(chunk);
    else if (startStderr.length < 16_384) startStderr += chunk.toString('utf8');
  });

  let disposing = false;
  const dispose = async () => {
    disposing = true;
    killNow();
    await exited;
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', onProcessExit);
  };

  let port: number;
  try {
    port = await waitForListen(child, () => startStderr ?? '');
  } catch (err) {
    await dispose();
    throw err;
  }
  if (startStderr) process.stderr.write(startStderr);
  startStderr = undefined;
  void exited.then(() => {
    // Ctrl-C in a terminal signals workerd too (same process group): it exits with status 0, and
    // this process is stopping as well.
    const stopping = child.exitCode === 0 || ['SIGINT', 'SIGTERM', 'SIGHUP'].includes(child.signalCode ?? '');
    if (!disposing && !stopping) process.stderr.write(`the local edge (workerd) exited unexpectedly (${child.signalCode ?? `code ${child.exitCode}`})\n`);
  });

  const host = ['0.0.0.0', '::', '*'].includes(opts.hostname) ? '127.0.0.1' : net.isIPv6(opts.hostname) ? `[${opts.hostname}]` : opts.hostname;
  return { url: new URL(`http://${host}:${port}/`), dispose };
}

/** CA certificates to trust on top of the browsers' (which workerd has built in), as Miniflare does. */
function trustedCertificates(): string[] {
  const certs = process.platform === 'win32' ? [...tls.rootCertificates] : [];
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    try {
      certs.push(...(readFileSync(extra, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS
    }
  }
  return certs;
}

/** The workerd binary of the `workerd` package (the one Miniflare and wrangler also run). */
function workerdPath(): string {
  if (process.env.MINIFLARE_WORKERD_PATH) return process.env.MINIFLARE_WORKERD_PATH;
  const require = createRequire(import.meta.url);
  return (require('workerd') as { default: string }).default;
}

/** Resolves with the port once workerd reports (on its control fd) that the socket is listening. */
function waitForListen(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdio[3] as Readable });
    const fail = (why: string) => {
      const detail = stderr().trim();
      done(new Error(`the local edge (workerd) ${why}${detail ? `:\n${detail}` : ''}`));
    };
    // 'close', not 'exit': by then its stderr has been read to the end.
    const onExit = (code: number | null, signal: string | null) => fail(`exited before listening (${signal ?? `code ${code}`})`);
    const onError = (err: Error) => done(new Error(`could not start workerd: ${err.message}`));
    const timer = setTimeout(() => fail(`did not start listening within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const done = (err: Error | undefined, port?: number) => {
      clearTimeout(timer);
      child.off('close', onExit);
      child.off('error', onError);
      lines.removeAllListeners('line');
      lines.on('line', () => {}); // keep draining the control pipe
      if (err) reject(err);
      else resolve(port!);
    };
    lines.on('line', (line) => {
      let message: { event?: string; socket?: string; port?: number };
      try {
        message = JSON.parse(line);
      } catch {
        return;
      }
      if (message.event === 'listen' && message.socket === SOCKET_NAME && typeof message.port === 'number') done(undefined, message.port);
    });
    child.once('close', onExit);
    child.once('error', onError);
  });
}
