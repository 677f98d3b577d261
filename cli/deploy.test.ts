import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHostTokens } from '../shared/auth.ts';
import { ConfigSchema, type Config } from '../shared/config.ts';
import { deploy, deploySecrets, edgeVars, wranglerBin, WRANGLER_TOML, type WranglerRunner } from './deploy.ts';
import { UserError } from './user-error.ts';

const TOKEN = 'host-token-0123456789abcdef';
const config = (raw: Record<string, unknown> = {}): Config =>
  ConfigSchema.parse({
    hostTokens: [{ token: TOKEN }, { token: 'another-token-0123456789', servers: ['fs'] }],
    auth: { bearer: { tokens: ['client-token'] } },
    ...raw,
  });

/** A wrangler that records its calls; a dry run writes a bundle the way wrangler does. */
function fakeWrangler(codes: number[] = []) {
  const calls: { args: string[]; input?: string }[] = [];
  const run: WranglerRunner = async (args, input) => {
    calls.push({ args, input });
    const outdir = args.indexOf('--outdir');
    if (outdir >= 0) {
      mkdirSync(args[outdir + 1]!, { recursive: true });
      writeFileSync(path.join(args[outdir + 1]!, 'index.js'), 'class HubObject {}\nexport { HubObject };\n');
    }
    return codes.shift() ?? 0;
  };
  return { run, calls };
}

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

const temp = mkdtempSync(path.join(tmpdir(), 'gw-deploy-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const quiet = () => {};

describe('deploy', () => {
  it('deploys with the config as vars, then sets both secrets with secret bulk on stdin', async () => {
    const { run, calls } = fakeWrangler();
    const result = await deploy({ config: config({ allowedOrigins: ['http://localhost:6274'], publicUrl: 'https://mcp.example.com' }), dryRun: false, open: false, run, print: quiet });
    expect(calls).toHaveLength(2);
    const [deployCall, secretCall] = calls;
    expect(deployCall!.args.slice(0, 3)).toEqual(['deploy', '--config', WRANGLER_TOML]);
    expect(deployCall!.args).toContain('PUBLIC_URL:https://mcp.example.com');
    expect(deployCall!.args).toContain('ALLOWED_ORIGINS:http://localhost:6274');
    expect(deployCall!.args).toContain('CALL_TIMEOUT_MS:30000');
    expect(deployCall!.args).not.toContain('--dry-run');
    expect(deployCall!.input).toBeUndefined();
    // Secrets never on the command line.
    expect(deployCall!.args.join(' ')).not.toContain(TOKEN);
    expect(secretCall!.args).toEqual(['secret', 'bulk', '--config', WRANGLER_TOML]);
    expect(secretCall!.args.join(' ')).not.toContain(TOKEN);
    const secrets = JSON.parse(secretCall!.input!);
    expect(parseHostTokens(secrets.HOST_TOKENS)).toEqual([{ token: TOKEN }, { token: 'another-token-0123456789', servers: ['fs'] }]);
    expect(JSON.parse(secrets.CLIENT_AUTH)).toEqual({ basic: [], bearer: ['client-token'] });
    expect(result.secrets).toEqual({ HOST_TOKENS: 'set', CLIENT_AUTH: 'set', OAUTH: 'deleted' });
  });

  it('a dry run bundles into the folder given, checks the bundle, and sets no secrets', async () => {
    const { run, calls } = fakeWrangler();
    const outdir = path.join(temp, 'out');
    const lines: string[] = [];
    const result = await deploy({ config: config(), dryRun: true, outdir, open: false, run, print: (l) => lines.push(l) });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args).toEqual(expect.arrayContaining(['deploy', '--dry-run', '--outdir', outdir]));
    expect(result).toEqual({ outdir, secrets: {} });
    expect(lines.join('\n')).toMatch(/with the HubObject Durable Object/);
    expect(lines.join('\n')).toMatch(/would set the secrets HOST_TOKENS \(2 tokens\) and CLIENT_AUTH \(1 bearer\)/);
  });

  it('a dry run whose bundle lacks the Durable Object fails', async () => {
    const run: WranglerRunner = async (args) => {
      const dir = args[args.indexOf('--outdir') + 1]!;
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'index.js'), 'export default {}');
      return 0;
    };
    await expect(deploy({ config: config(), dryRun: true, outdir: path.join(temp, 'bad'), open: false, run, print: quiet })).rejects.toThrow(/no usable bundle/);
  });

  it('passes arguments after -- to wrangler deploy, and --env to secret bulk too', async () => {
    const { run, calls } = fakeWrangler();
    await deploy({ config: config(), dryRun: false, open: false, wranglerArgs: ['--env', 'production', '--minify'], run, print: quiet });
    expect(calls[0]!.args.slice(-3)).toEqual(['--env', 'production', '--minify']);
    expect(calls[1]!.args).toEqual(['secret', 'bulk', '--config', WRANGLER_TOML, '--env', 'production']);
  });

  it('a failing wrangler deploy is a UserError and no secrets are set', async () => {
    const { run, calls } = fakeWrangler([1]);
    const err = await deploy({ config: config(), dryRun: false, open: false, run, print: quiet }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('wrangler deploy failed (exit code 1)');
    expect(err.fix).toMatch(/wrangler login/);
    expect(calls).toHaveLength(1);
  });

  it('a failing secret bulk says the Worker is deployed but its secrets are not set', async () => {
    const { run } = fakeWrangler([0, 1]);
    await expect(deploy({ config: config(), dryRun: false, open: false, run, print: quiet })).rejects.toThrow(/deployed, but setting its secrets failed/);
  });
});

describe('deploySecrets', () => {
  it('needs host tokens', () => {
    const err = userError(() => deploySecrets(config({ hostTokens: [] }), false));
    expect(err.message).toMatch(/no hostTokens/);
  });

  it('refuses an edge without auth unless --open, which deletes CLIENT_AUTH', () => {
    const open = config({ auth: undefined });
    expect(userError(() => deploySecrets(open, false)).fix).toMatch(/--open/);
    expect(deploySecrets(open, true).CLIENT_AUTH).toBeNull();
  });
});

describe('edgeVars', () => {
  it('carries the limits, origins and public URL as npm start does', () => {
    expect(edgeVars(config({ limits: { callTimeoutMs: 5000, maxResultChars: 0 } }))).toMatchObject({ CALL_TIMEOUT_MS: '5000', MAX_RESULT_CHARS: '0', ALLOWED_ORIGINS: '', PUBLIC_URL: '' });
  });
});

describe('wranglerBin', () => {
  it("is the project's wrangler, or MCP_GATEWAY_WRANGLER", () => {
    expect(existsSync(wranglerBin({}))).toBe(true);
    expect(wranglerBin({ MCP_GATEWAY_WRANGLER: '/x/wrangler.js' })).toBe('/x/wrangler.js');
  });
});
