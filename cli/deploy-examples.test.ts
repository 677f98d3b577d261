/** The files in deploy/ stay true: the example configs load, and the systemd unit's command line is accepted. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commandHelp, runCli } from './cli.ts';
import { loadConfig } from './config.ts';
import { deploySecrets } from './deploy.ts';

const DEPLOY = path.resolve(import.meta.dirname, '..', 'deploy');
const env = { HOME: '/home/me', API_TOKEN: 'client-token', LAPTOP_TOKEN: 'laptop-token-0123456789abcdef', SERVER_TOKEN: 'server-token-0123456789abcdef' };

afterEach(() => vi.restoreAllMocks());

describe('the two-machine example', () => {
  it('each machine announces exactly the servers its token allows', () => {
    const edge = loadConfig(path.join(DEPLOY, 'two-machines/edge.yaml'), env).config;
    const laptop = loadConfig(path.join(DEPLOY, 'two-machines/laptop.yaml'), env).config;
    const server = loadConfig(path.join(DEPLOY, 'two-machines/server.yaml'), env).config;
    const allowed = (token: string) => edge.hostTokens.find((t) => t.token === token)?.servers?.slice().sort();
    expect(allowed(env.LAPTOP_TOKEN)).toEqual(Object.keys(laptop.servers).sort());
    expect(allowed(env.SERVER_TOKEN)).toEqual(Object.keys(server.servers).sort());
    expect(laptop.host.id).not.toBe(server.host.id);
  });

  it('the edge config deploys: host tokens and client auth are there', () => {
    const edge = loadConfig(path.join(DEPLOY, 'two-machines/edge.yaml'), env).config;
    const secrets = deploySecrets(edge, false);
    expect(JSON.parse(secrets.CLIENT_AUTH!)).toEqual({ basic: [], bearer: ['client-token'] });
  });
});

describe('deploy/mcp-gateway-host.service', () => {
  it("runs `host` with flags the CLI accepts, the edge and token coming from the environment file", async () => {
    const unit = readFileSync(path.join(DEPLOY, 'mcp-gateway-host.service'), 'utf8');
    const exec = /^ExecStart=(\S+) bin\/mcp-gateway\.js (.+)$/m.exec(unit);
    expect(exec, 'an ExecStart running bin/mcp-gateway.js as npm start does').not.toBeNull();
    expect(exec![1]).toBe('/opt/mcp-gateway/node_modules/.bin/node');
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/mcp-gateway\/host\.env$/m);
    const args = exec![2]!.split(' ');
    expect(args[0]).toBe('host');
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    // With --help the flags are checked and nothing starts.
    await runCli([...args, '--help'], {});
    expect(out).toBe(commandHelp('host'));
  });
});
