/**
 * The floor's Worker (bench/floor/worker.js) bundled as the gateway's edge is, with a workerd
 * config made by the same local/workerd-config.ts: the gateway's compatibility date and flags
 * (from wrangler.toml), a SQLite-backed Durable Object, one HTTP socket on a free port.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, stop as stopEsbuild } from 'esbuild';
import { WORKER_BUNDLE } from '../../local/local-edge.ts';
import { workerdConfig } from '../../local/workerd-config.ts';
import { readEdgeSettings } from '../../local/wrangler-toml.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');

export interface FloorBuild {
  /** The workerd config file; the bundle and the object's storage are next to it. */
  configFile: string;
  remove(): void;
}

export async function buildFloor(): Promise<FloorBuild> {
  const bundled = await build({
    ...WORKER_BUNDLE,
    entryPoints: [path.join(HERE, 'worker.js')],
    external: ['cloudflare:*'],
    write: false,
  }).finally(() => stopEsbuild());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-gateway-floor-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    mkdirSync(path.join(dir, 'do'));
    writeFileSync(path.join(dir, 'floor.js'), bundled.outputFiles[0]!.text);
    const gateway = readEdgeSettings(path.join(ROOT, 'wrangler.toml'));
    const settings = {
      ...gateway,
      ...(process.env.FLOOR_COMPAT_DATE ? { compatibilityDate: process.env.FLOOR_COMPAT_DATE } : {}),
      name: 'floor',
      vars: {},
      durableObjects: [{ binding: 'FLOOR', className: 'Floor', sql: true }],
    };
    const configFile = path.join(dir, 'floor.capnp');
    writeFileSync(configFile, workerdConfig({ settings, moduleFile: 'floor.js', envBindings: {}, trustedCertificates: [], storageDir: path.join(dir, 'do'), address: '127.0.0.1:0' }));
    return { configFile, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
