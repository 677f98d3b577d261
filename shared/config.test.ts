import { describe, expect, it } from 'vitest';
import { expandEnv, isEnabled, parseConfig, type Config, type ConfigIssue } from './config.ts';

/** The original project's config.yaml, as parsed YAML. */
const original = {
  hostname: '0.0.0.0',
  port: 3000,
  debug: { level: 'debug' },
  auth: {
    basic: { enabled: true, credentials: [{ username: 'admin', password: 'pa:ss' }] },
    bearer: { enabled: true, tokens: ['token-one', 'token-two'] },
  },
  servers: {
    filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], path: '/srv/files' },
    memory: { command: 'node', args: ['memory.js'] },
  },
};

function ok(raw: unknown, env: Record<string, string | undefined> = {}): Config {
  const result = parseConfig(raw, env);
  if (!('config' in result)) throw new Error(`expected a valid config, got ${JSON.stringify(result.issues)}`);
  return result.config;
}

function issues(raw: unknown, env: Record<string, string | undefined> = {}): ConfigIssue[] {
  const result = parseConfig(raw, env);
  if ('config' in result) throw new Error('expected config issues, but the config was accepted');
  return result.issues;
}

const paths = (list: ConfigIssue[]) => list.map((i) => i.path.join('.'));

describe('parseConfig', () => {
  it('accepts the original project config format unchanged', () => {
    const config = ok(original);
    expect(config.hostname).toBe('0.0.0.0');
    expect(config.port).toBe(3000);
    expect(config.debug.level).toBe('debug');
    expect(config.auth?.basic).toEqual({ enabled: true, credentials: [{ username: 'admin', password: 'pa:ss' }] });
    expect(config.auth?.bearer).toEqual({ enabled: true, tokens: ['token-one', 'token-two'] });
    expect(config.servers.filesystem).toEqual({
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
      path: '/srv/files',
      env: {},
      instances: 'per-session',
      pool: 'auto',
    });
    expect(config.servers.memory?.args).toEqual(['memory.js']);
  });

  it('fills defaults for an empty or missing config', () => {
    for (const raw of [undefined, null, {}]) {
      const config = ok(raw);
      expect(config.hostname).toBe('127.0.0.1');
      expect(config.port).toBe(3000);
      expect(config.debug.level).toBe('info');
      expect(config.servers).toEqual({});
    }
  });

  it('accepts a per-server env map, turning numbers and booleans into strings', () => {
    const config = ok({ servers: { fs: { command: 'x', args: ['--port', 8080], env: { TOKEN: 'abc', PORT: 9000, VERBOSE: true } } } });
    expect(config.servers.fs?.env).toEqual({ TOKEN: 'abc', PORT: '9000', VERBOSE: 'true' });
    expect(config.servers.fs?.args).toEqual(['--port', '8080']);
  });

  it('rejects a misspelled key, naming its full path', () => {
    const found = issues({ servers: { fs: { comand: 'npx' } } });
    expect(paths(found)).toContain('servers.fs.comand');
    expect(found.find((i) => i.path.join('.') === 'servers.fs.comand')?.message).toMatch(/unknown key "comand"/);
  });

  it('rejects unknown keys at every level', () => {
    expect(paths(issues({ ...original, hostnme: 'x' }))).toContain('hostnme');
    expect(paths(issues({ ...original, debug: { levle: 'info' } }))).toContain('debug.levle');
    expect(paths(issues({ auth: { basic: { credentials: [{ username: 'a', password: 'b', role: 'x' }] } } }))).toContain(
      'auth.basic.credentials.0.role',
    );
  });

  it('rejects values of the wrong type or outside the allowed set', () => {
    expect(paths(issues({ port: 'eighty' }))).toEqual(['port']);
    expect(paths(issues({ port: 70000 }))).toEqual(['port']);
    expect(paths(issues({ debug: { level: 'loud' } }))).toEqual(['debug.level']);
    expect(paths(issues({ servers: { fs: { args: [] } } }))).toEqual(['servers.fs.command']);
  });

  it('expands ${VAR} from the environment in every string, nested or in arrays', () => {
    const config = ok(
      {
        auth: { bearer: { tokens: ['${TOKEN}'] } },
        servers: { fs: { command: '${BIN}/server', args: ['--root', '${HOME_DIR}/files'], env: { KEY: 'k-${TOKEN}' } } },
      },
      { TOKEN: 's3cret', BIN: '/opt/bin', HOME_DIR: '/home/me' },
    );
    expect(config.auth?.bearer?.tokens).toEqual(['s3cret']);
    expect(config.servers.fs?.command).toBe('/opt/bin/server');
    expect(config.servers.fs?.args).toEqual(['--root', '/home/me/files']);
    expect(config.servers.fs?.env).toEqual({ KEY: 'k-s3cret' });
  });

  it('keeps $${VAR} as a literal ${VAR}', () => {
    const config = ok({ servers: { fs: { command: 'x', args: ['$${NOT_EXPANDED}', '${SET}'] } } }, { SET: 'yes', NOT_EXPANDED: 'no' });
    expect(config.servers.fs?.args).toEqual(['${NOT_EXPANDED}', 'yes']);
  });

  it('a missing environment variable is an error naming the key and the variable', () => {
    const found = issues({ servers: { fs: { command: 'x', env: { API_KEY: '${MISSING_KEY}' } } } }, { OTHER: '1' });
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toEqual(['servers', 'fs', 'env', 'API_KEY']);
    expect(found[0]!.message).toContain('MISSING_KEY');
  });

  it.each(['api', 'health', 'agent', 'docs', 'mcp', 'API', 'Health'])('rejects the reserved server name %s', (name) => {
    expect(paths(issues({ servers: { [name]: { command: 'x' } } }))).toContain(`servers.${name}`);
  });

  it.each(['my.server', 'a/b', '../up', 'has space', '', 'x'.repeat(65)])('rejects the server name %j', (name) => {
    const found = issues({ servers: { [name]: { command: 'x' } } });
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toEqual(['servers', name]);
  });

  it('accepts server names made of letters, digits, "_" and "-"', () => {
    expect(Object.keys(ok({ servers: { 'my-server_2': { command: 'x' }, API2: { command: 'y' } } }).servers)).toEqual(['my-server_2', 'API2']);
  });

  it('explains why a server name is refused', () => {
    const [reserved] = issues({ servers: { api: { command: 'x' } } });
    expect(reserved!.message).toMatch(/reserved/);
    const [badChars] = issues({ servers: { 'a.b': { command: 'x' } } });
    expect(badChars!.message).toMatch(/letters, digits/);
  });
});

describe('expandEnv', () => {
  it('leaves non-strings alone and reports each missing variable with its path', () => {
    const found: ConfigIssue[] = [];
    const value = expandEnv({ n: 5, b: false, list: ['${A}', '${B}'], deep: { s: '${A}-${C}' } }, { A: 'a' }, [], found);
    expect(value).toEqual({ n: 5, b: false, list: ['a', ''], deep: { s: 'a-' } });
    expect(found.map((i) => i.path)).toEqual([['list', 1], ['deep', 's']]);
  });

  it('does not expand $VAR without braces', () => {
    expect(expandEnv('$HOME and ${X}', { HOME: '/h', X: 'x' })).toBe('$HOME and x');
  });
});

describe('per-server enabled and tools, log format', () => {
  it('enabled: false is kept in the config and reported by isEnabled', () => {
    const config = ok({ servers: { a: { command: 'x', enabled: false }, b: { command: 'y' } } });
    expect(isEnabled(config.servers.a!)).toBe(false);
    expect(isEnabled(config.servers.b!)).toBe(true);
    expect(paths(issues({ servers: { a: { command: 'x', enabled: 'no' } } }))).toEqual(['servers.a.enabled']);
  });

  it('tools takes allow or deny, not both, not something else', () => {
    expect(ok({ servers: { a: { command: 'x', tools: { allow: ['read_*'] } } } }).servers.a?.tools).toEqual({ allow: ['read_*'] });
    expect(ok({ servers: { a: { command: 'x', tools: { deny: ['write'] } } } }).servers.a?.tools).toEqual({ deny: ['write'] });
    const both = issues({ servers: { a: { command: 'x', tools: { allow: ['a'], deny: ['b'] } } } });
    expect(paths(both)).toEqual(['servers.a.tools']);
    expect(both[0]!.message).toMatch(/either allow or deny/);
    expect(paths(issues({ servers: { a: { command: 'x', tools: {} } } }))).toEqual(['servers.a.tools']);
    expect(paths(issues({ servers: { a: { command: 'x', tools: { alow: ['a'] } } } }))).toContain('servers.a.tools.alow');
  });

  it('debug.format is text by default, or json', () => {
    expect(ok({}).debug).toEqual({ level: 'info', format: 'text' });
    expect(ok({ debug: { format: 'json' } }).debug).toEqual({ level: 'info', format: 'json' });
    expect(paths(issues({ debug: { format: 'xml' } }))).toEqual(['debug.format']);
  });
});

describe('trust settings', () => {
  const jwt = (jwksUrl: string) => ({ auth: { jwt: { jwksUrl, issuer: 'https://issuer.test', audience: 'gw' } } });

  it('JWKS URLs must be https, except on a loopback address', () => {
    expect(ok(jwt('https://issuer.test/jwks.json')).auth?.jwt?.jwksUrl).toBe('https://issuer.test/jwks.json');
    expect(ok(jwt('http://127.0.0.1:8080/jwks.json')).auth?.jwt?.jwksUrl).toBe('http://127.0.0.1:8080/jwks.json');
    expect(ok(jwt('http://localhost/jwks.json')).auth?.jwt?.jwksUrl).toBe('http://localhost/jwks.json');
    expect(issues(jwt('http://issuer.test/jwks.json'))[0]?.message).toMatch(/must be https/);
  });

  it('host tokens may name host ids and shareServers; unknown keys are errors', () => {
    const config = ok({ hostTokens: [{ token: 'x'.repeat(16), servers: ['a'], hosts: ['laptop'], shareServers: true }] });
    expect(config.hostTokens[0]).toEqual({ token: 'x'.repeat(16), servers: ['a'], hosts: ['laptop'], shareServers: true });
    expect(paths(issues({ hostTokens: [{ token: 'x'.repeat(16), host: ['laptop'] }] }))).toEqual(['hostTokens.0.host']);
  });

  it('host.maxProcesses and host.inheritEnv have defaults and are checked', () => {
    expect(ok({}).host).toMatchObject({ maxProcesses: 32, inheritEnv: [] });
    expect(ok({ host: { maxProcesses: '8', inheritEnv: ['JAVA_HOME'] } }).host).toMatchObject({ maxProcesses: 8, inheritEnv: ['JAVA_HOME'] });
    expect(paths(issues({ host: { maxProcesses: 0 } }))).toEqual(['host.maxProcesses']);
    expect(paths(issues({ host: { inheritEnv: ['NOT A NAME'] } }))).toEqual(['host.inheritEnv.0']);
  });
});
