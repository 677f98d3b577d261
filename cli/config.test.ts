import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfigFile, parseConfigText } from './config.ts';
import { UserError } from './user-error.ts';

const FILE = '/etc/gw/config.yaml';

const ORIGINAL = `# the original project's format
hostname: "0.0.0.0"
port: 3000
debug:
  level: "verbose"
auth:
  basic:
    enabled: true
    credentials:
      - username: "admin"
        password: "secret:with:colons"
  bearer:
    enabled: false
    tokens:
      - "tok-1"
servers:
  filesystem:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]
    path: /tmp
  git:
    command: uvx
    args:
      - mcp-server-git
`;

/** Parses `text` expecting a UserError; returns it with its full text (message + detail). */
function failure(text: string, env: NodeJS.ProcessEnv = {}): { error: UserError; text: string } {
  try {
    parseConfigText(text, FILE, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    const error = err as UserError;
    return { error, text: `${error.message}\n${error.detail}` };
  }
  throw new Error('expected a UserError, but the config was accepted');
}

/** The `file:LINE: key.path: message` line that names `keyPath`. */
function lineFor(text: string, keyPath: string): string {
  const line = text.split('\n').find((l) => l.includes(`: ${keyPath}: `));
  if (!line) throw new Error(`no error line names ${keyPath} in:\n${text}`);
  return line;
}

describe('parseConfigText', () => {
  it('parses the original project config.yaml unchanged', () => {
    const config = parseConfigText(ORIGINAL, FILE, {});
    expect(config.hostname).toBe('0.0.0.0');
    expect(config.port).toBe(3000);
    expect(config.debug.level).toBe('verbose');
    expect(config.auth?.basic?.credentials).toEqual([{ username: 'admin', password: 'secret:with:colons' }]);
    expect(config.auth?.bearer).toEqual({ enabled: false, tokens: ['tok-1'] });
    expect(config.servers.filesystem).toMatchObject({
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
      path: '/tmp',
    });
    expect(config.servers.git).toMatchObject({ command: 'uvx', args: ['mcp-server-git'] });
  });

  it('parses the config.yaml shipped in the repository', () => {
    const { config } = loadConfig(path.resolve(import.meta.dirname, '..', 'config.yaml'), {});
    expect(Object.keys(config.servers).length).toBeGreaterThan(0);
  });

  it('accepts an env map per server', () => {
    const config = parseConfigText(
      `servers:
  fs:
    command: node
    env:
      LOG_LEVEL: debug
      PORT: 8080
      ENABLED: true
`,
      FILE,
      {},
    );
    expect(config.servers.fs?.env).toEqual({ LOG_LEVEL: 'debug', PORT: '8080', ENABLED: 'true' });
  });

  it('an empty file is the default config', () => {
    expect(parseConfigText('', FILE, {}).servers).toEqual({});
    expect(parseConfigText('# only a comment\n', FILE, {}).port).toBe(3000);
  });

  it('a misspelled key is reported with its key path and its own line', () => {
    const { error, text } = failure(`hostname: localhost
port: 3000
servers:
  fs:
    comand: npx
`);
    expect(error.message).toContain(FILE);
    expect(lineFor(text, 'servers.fs.comand')).toMatch(/config\.yaml:5: servers\.fs\.comand: .*comand/);
    expect(error.format()).toContain('fix:');
  });

  it('an unknown top-level key is reported at its line', () => {
    const { text } = failure(`hostname: localhost

hostnmae: oops
`);
    expect(lineFor(text, 'hostnmae')).toContain(':3: hostnmae:');
  });

  it('a problem inside a list names the index and the list item line', () => {
    const { text } = failure(`auth:
  basic:
    credentials:
      - username: a
        password: b
      - username: c
`);
    // The second item has no password; the item starts on line 6.
    expect(lineFor(text, 'auth.basic.credentials.1.password')).toContain(':6:');
  });

  it('a value of the wrong type is reported at its line', () => {
    const { text } = failure(`hostname: h
port: 3000
debug:
  level: shouty
`);
    expect(lineFor(text, 'debug.level')).toContain(':4:');
  });

  it('reports every problem, not just the first', () => {
    const { error, text } = failure(`prot: 1
servers:
  a:
    command: x
    argz: []
`);
    expect(error.message).toMatch(/2 config errors/);
    expect(lineFor(text, 'prot')).toContain(':1:');
    expect(lineFor(text, 'servers.a.argz')).toContain(':5:');
  });

  it('expands ${VAR} from the environment given', () => {
    const config = parseConfigText(
      `auth:
  bearer:
    tokens: ["\${GW_TOKEN}"]
servers:
  fs:
    command: \${TOOLS}/fs-server
    args: ["\${ROOT}", "$\${LITERAL}"]
`,
      FILE,
      { GW_TOKEN: 'tkn', TOOLS: '/opt/tools', ROOT: '/data' },
    );
    expect(config.auth?.bearer?.tokens).toEqual(['tkn']);
    expect(config.servers.fs?.command).toBe('/opt/tools/fs-server');
    expect(config.servers.fs?.args).toEqual(['/data', '${LITERAL}']);
  });

  it('a missing environment variable is an error naming the key, the variable and the line', () => {
    const { text } = failure(`servers:
  fs:
    command: node
    env:
      API_KEY: \${FS_API_KEY}
`);
    const line = lineFor(text, 'servers.fs.env.API_KEY');
    expect(line).toContain(':5:');
    expect(line).toContain('FS_API_KEY');
  });

  it.each(['api', 'health', 'agent', 'docs', 'mcp'])('rejects the reserved server name %s at its line', (name) => {
    const { text } = failure(`port: 3000
servers:
  ok-server:
    command: x
  ${name}:
    command: y
`);
    expect(lineFor(text, `servers.${name}`)).toContain(':5:');
    expect(text).not.toContain('ok-server');
  });

  it.each(['my.server', 'a/b'])('rejects the server name %s', (name) => {
    const { text } = failure(`servers:
  "${name}":
    command: y
`);
    expect(text).toContain(`servers.${name}`);
    expect(text).toContain(':2:');
  });

  it('bad YAML is an error naming the line', () => {
    const { error } = failure(`hostname: h
servers:
\tfs:
    command: x
`);
    expect(error.message).toBe(`${FILE}:3: not valid YAML`);
    expect(error.detail.length).toBeGreaterThan(0);
  });

  it('a duplicate key is bad YAML at the duplicate', () => {
    const { error } = failure(`hostname: a
port: 1
hostname: b
`);
    expect(error.message).toMatch(/config\.yaml:3: not valid YAML/);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file and reports the folder relative paths are taken from', () => {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, 'servers:\n  s:\n    command: ./bin/s\n');
    const loaded = loadConfig(file, {});
    expect(loaded.file).toBe(file);
    expect(loaded.dir).toBe(dir);
    expect(loaded.config.servers.s?.command).toBe('./bin/s');
  });

  it('a missing file is a UserError naming it', () => {
    const file = path.join(dir, 'nope.yaml');
    expect(() => loadConfig(file, {})).toThrow(UserError);
    expect(() => loadConfig(file, {})).toThrow(file);
  });
});

describe('Claude Desktop config files', () => {
  const CLAUDE = `{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"]
    },
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_x" }
    }
  }
}
`;

  it('are accepted as they are: mcpServers become the servers, other keys are ignored', () => {
    const parsed = parseConfigFile(CLAUDE, '/home/me/claude_desktop_config.json', {});
    expect(parsed.format).toBe('claude-desktop');
    expect(parsed.warnings).toEqual([]);
    expect(Object.keys(parsed.config.servers)).toEqual(['filesystem', 'github']);
    expect(parsed.config.servers.github).toMatchObject({ command: 'docker', env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_x' } });
    expect(parsed.config.port).toBe(3000);
  });

  it('are detected by content too (any file name), and a gateway JSON config stays a gateway config', () => {
    expect(parseConfigFile(CLAUDE, '/x/servers.conf', {}).format).toBe('claude-desktop');
    const gateway = parseConfigFile('{"port": 0, "servers": {"a": {"command": "x"}}}', '/x/config.json', {});
    expect(gateway.format).toBe('yaml');
    expect(gateway.config.port).toBe(0);
  });

  it('leave out remote (url) entries with a warning, map disabled and cwd, and note ignored keys', () => {
    const parsed = parseConfigFile(
      JSON.stringify({
        mcpServers: {
          remote: { url: 'https://example.com/mcp' },
          sse: { type: 'sse', url: 'https://example.com/sse' },
          off: { command: 'x', disabled: true },
          here: { type: 'stdio', command: 'y', cwd: '/srv', autoApprove: ['a'] },
        },
      }),
      '/x/claude_desktop_config.json',
      {},
    );
    expect(Object.keys(parsed.config.servers)).toEqual(['off', 'here']);
    expect(parsed.config.servers.off?.enabled).toBe(false);
    expect(parsed.config.servers.here?.path).toBe('/srv');
    expect(parsed.warnings.join('\n')).toMatch(/mcpServers\.remote: left out: it is a remote server/);
    expect(parsed.warnings.join('\n')).toMatch(/mcpServers\.sse: left out/);
    expect(parsed.warnings.join('\n')).toMatch(/mcpServers\.here: ignored "autoApprove"/);
  });

  it('report errors with the file\'s own key paths and lines', () => {
    const text = `{
  "mcpServers": {
    "ok": { "command": "x" },
    "bad name": { "command": "y" },
    "noargs": {
      "command": "z",
      "args": "not-a-list"
    }
  }
}
`;
    let error: UserError | undefined;
    try {
      parseConfigFile(text, '/x/claude_desktop_config.json', {});
    } catch (err) {
      error = err as UserError;
    }
    expect(error).toBeInstanceOf(UserError);
    expect(error!.detail).toContain('/x/claude_desktop_config.json:4: mcpServers.bad name:');
    expect(error!.detail).toContain('/x/claude_desktop_config.json:7: mcpServers.noargs.args:');
    expect(error!.fix).toMatch(/Claude Desktop/);
  });

  it('a broken JSON file is "not valid JSON" at its line', () => {
    expect(() => parseConfigFile('{\n  "mcpServers": {\n    "a": { "command": "x", }\n  ,,\n}\n', '/x/c.json', {})).toThrow(/c\.json:\d+: not valid JSON/);
  });

  it('loadConfig reads one and says which format it was', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gw-claude-'));
    try {
      const file = path.join(dir, 'claude_desktop_config.json');
      writeFileSync(file, CLAUDE);
      const loaded = loadConfig(file, {});
      expect(loaded.format).toBe('claude-desktop');
      expect(loaded.dir).toBe(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
