/**
 * `mcp-gateway deploy`: ships the edge to Cloudflare with wrangler, configured from config.yaml.
 * `wrangler deploy` (with the config's limits, origins and public URL as vars), then
 * `wrangler secret bulk` for HOST_TOKENS (from `hostTokens`) and CLIENT_AUTH (from `auth`), the
 * secrets given on stdin, never written to disk. `--dry-run` bundles the Worker into a folder
 * (`wrangler deploy --dry-run --outdir`), checks it, and sets no secrets.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../shared/config.ts';
import { limitVars } from '../shared/settings.ts';
import { clientAuthBinding, hostTokensBinding, oauthBinding } from './edge-secrets.ts';
import { UserError } from './user-error.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WRANGLER_TOML = path.join(ROOT, 'wrangler.toml');

/** Runs wrangler with `args` in the project folder; `input` goes to its stdin. Resolves with its exit code. */
export type WranglerRunner = (args: string[], input?: string) => Promise<number>;

export interface DeployOptions {
  config: Config;
  /** Bundle and check only: no upload, no secrets. */
  dryRun: boolean;
  /** Where a dry run writes the bundle (default: a new temp folder). */
  outdir?: string;
  /** Deploy without client credentials (an API anyone can call), on purpose. */
  open: boolean;
  /** More arguments for `wrangler deploy` (after `--`). */
  wranglerArgs?: string[];
  run?: WranglerRunner;
  /** Progress lines for the user (stdout). */
  print?: (line: string) => void;
}

export interface DeployResult {
  /** The dry run's bundle folder. */
  outdir?: string;
  /** Names of the secrets set (or, with null, deleted). */
  secrets: Record<string, 'set' | 'deleted'>;
}

/** The Worker's vars from config.yaml, as `npm start` gives them to the local edge. */
export function edgeVars(config: Config): Record<string, string> {
  return {
    ...limitVars(config.limits),
    ALLOWED_ORIGINS: config.allowedOrigins.join(','),
    PUBLIC_URL: config.publicUrl ?? '',
  };
}

/**
 * The secrets a deploy sets, checked: host agents need a token, and an edge on the internet needs
 * client credentials unless `open`. `null` deletes (CLIENT_AUTH of an open deploy).
 */
export function deploySecrets(config: Config, open: boolean): Record<string, string | null> {
  if (config.hostTokens.length === 0) {
    throw new UserError(
      'config.yaml has no hostTokens',
      'host agents present one of these tokens to the deployed edge; without any, no host can connect',
      'add `hostTokens: [{token: "<at least 16 random characters>"}]` to config.yaml (e.g. from `openssl rand -hex 24`)',
    );
  }
  const clientAuth = clientAuthBinding(config);
  if (!clientAuth && !open) {
    throw new UserError(
      'config.yaml has no auth: the deployed gateway would let anyone on the internet call your tools',
      'the edge checks clients against CLIENT_AUTH, which deploy sets from the auth section',
      'add an auth section (bearer tokens, basic credentials or JWT; see README.md), or pass --open to deploy an open gateway on purpose',
    );
  }
  return { HOST_TOKENS: hostTokensBinding(config), CLIENT_AUTH: clientAuth ?? null, OAUTH: oauthBinding(config) ?? null };
}

export async function deploy(opts: DeployOptions): Promise<DeployResult> {
  const { config, dryRun } = opts;
  const run = opts.run ?? runWrangler;
  const print = opts.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const secrets = deploySecrets(config, opts.open);
  // An open API is an explicit choice the edge sees: without it, no CLIENT_AUTH closes the API.
  const vars = Object.entries({ ...edgeVars(config), OPEN_API: secrets.CLIENT_AUTH === null ? '1' : '' }).flatMap(([key, value]) => ['--var', `${key}:${value}`]);
  const args = ['deploy', '--config', WRANGLER_TOML, ...vars, ...(opts.wranglerArgs ?? [])];

  if (dryRun) {
    const outdir = path.resolve(opts.outdir ?? mkdtempSync(path.join(os.tmpdir(), 'mcp-gateway-deploy-')));
    print(`dry run: bundling the edge with wrangler into ${outdir} (nothing is uploaded, no secrets are set)`);
    const code = await run([...args, '--dry-run', '--outdir', outdir]);
    if (code !== 0) throw wranglerFailed('wrangler deploy --dry-run', code);
    const bundle = path.join(outdir, 'index.js');
    if (!existsSync(bundle) || !/\bHubObject\b/.test(readFileSync(bundle, 'utf8'))) {
      throw new UserError('the dry run produced no usable bundle', `${bundle} is missing or does not export the HubObject Durable Object`, 'check wrangler.toml (main, durable_objects) and the output above');
    }
    print(`dry run done: ${bundle} (${Math.round(statSync(bundle).size / 1024)} KiB), with the HubObject Durable Object`);
    print(`a deploy would set the secrets ${describeSecrets(secrets)}`);
    return { outdir, secrets: {} };
  }

  print('deploying the edge with wrangler');
  const code = await run(args);
  if (code !== 0) throw wranglerFailed('wrangler deploy', code);
  print(`setting the Worker's secrets: ${describeSecrets(secrets)}`);
  const secretCode = await run(['secret', 'bulk', '--config', WRANGLER_TOML, ...envArgs(opts.wranglerArgs)], JSON.stringify(secrets));
  if (secretCode !== 0) {
    throw new UserError(
      'the edge was deployed, but setting its secrets failed',
      `wrangler secret bulk exited with code ${secretCode} (its output is above)`,
      'run mcp-gateway deploy again, or set HOST_TOKENS and CLIENT_AUTH with `npx wrangler secret put`',
    );
  }
  print('deployed. Next, on each machine: mcp-gateway host --edge https://<your worker URL> --token <one of hostTokens>');
  return { secrets: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, v === null ? 'deleted' : 'set'])) };
}

/** `--env`/`-e` of the extra wrangler arguments also selects the environment the secrets go to. */
function envArgs(extra: string[] = []): string[] {
  const at = extra.findIndex((a) => a === '--env' || a === '-e' || a.startsWith('--env='));
  if (at < 0) return [];
  return extra[at]!.startsWith('--env=') ? [extra[at]!] : extra.slice(at, at + 2);
}

function describeSecrets(secrets: Record<string, string | null>): string {
  return Object.entries(secrets)
    .map(([name, value]) => {
      if (value === null) return name === 'CLIENT_AUTH' ? `${name} (deleted: the API is open)` : `${name} (deleted)`;
      if (name === 'OAUTH') return `${name} (OAuth sign-in, ${(JSON.parse(value) as { clients: unknown[] }).clients.length} pre-registered clients)`;
      if (name === 'HOST_TOKENS') return `${name} (${(JSON.parse(value) as unknown[]).length} tokens)`;
      if (name === 'CLIENT_AUTH') {
        const auth = JSON.parse(value) as { basic: unknown[]; bearer: unknown[]; jwt?: unknown };
        const kinds = [auth.basic.length && `${auth.basic.length} basic`, auth.bearer.length && `${auth.bearer.length} bearer`, auth.jwt && 'JWT'].filter(Boolean);
        return `${name} (${kinds.join(', ')})`;
      }
      return name;
    })
    .join(' and ');
}

function wranglerFailed(what: string, code: number): UserError {
  return new UserError(
    `${what} failed (exit code ${code})`,
    "wrangler's output above says why",
    'not logged in: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN); otherwise see docs/deploy.md',
  );
}

/** wrangler's own CLI, run with this Node (wrangler needs Node 22+; the machine's `node` may be older). */
export function wranglerBin(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MCP_GATEWAY_WRANGLER) return env.MCP_GATEWAY_WRANGLER;
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('wrangler/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin: Record<string, string> };
  return path.join(path.dirname(pkgFile), pkg.bin.wrangler ?? 'bin/wrangler.js');
}

const runWrangler: WranglerRunner = (args, input) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerBin(), ...args], {
      cwd: ROOT,
      stdio: [input === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    if (input !== undefined) child.stdin!.end(input);
  });
