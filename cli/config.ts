/**
 * Reading config.yaml (or CONFIG_PATH): YAML, `${VAR}` expansion, the strict schema, and errors
 * with line numbers. A Claude Desktop `claude_desktop_config.json` (`{"mcpServers": {...}}`) is
 * accepted as it is: its servers become the gateway's, everything else takes its default.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { parseConfig, type Config, type ConfigIssue } from '../shared/config.ts';
import { UserError } from './user-error.ts';

export type ConfigFormat = 'yaml' | 'claude-desktop';

export interface ParsedConfig {
  config: Config;
  format: ConfigFormat;
  /** Things left out or ignored that the user should know about (Claude Desktop entries the host cannot run). */
  warnings: string[];
}

export interface LoadedConfig extends ParsedConfig {
  /** Absolute path of the file read. */
  file: string;
  /** Folder relative paths in the config are taken from. */
  dir: string;
}

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CONFIG_PATH ?? 'config.yaml');
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read config file ${file}`, (err as Error).message, 'create it (see README.md, Configuration), or name yours with --config <file> or CONFIG_PATH');
  }
  return { ...parseConfigFile(text, file, env), file, dir: path.dirname(file) };
}

export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfigFile(text, file, env).config;
}

/** Parses a config file's text: the gateway's YAML (or JSON), or a Claude Desktop config. */
export function parseConfigFile(text: string, file: string, env: NodeJS.ProcessEnv = process.env): ParsedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const json = file.endsWith('.json') || text.trimStart().startsWith('{');
  if (doc.errors.length) {
    const first = doc.errors[0]!;
    const line = lineCounter.linePos(first.pos[0]).line;
    const kind = json ? 'JSON' : 'YAML';
    throw new UserError(`${file}:${line}: not valid ${kind}`, first.message.split('\n')[0] ?? '', `fix the ${kind} syntax at that line`);
  }
  const raw: unknown = doc.toJS();
  const claude = isClaudeDesktop(raw);
  const warnings: string[] = [];
  const input = claude ? fromClaudeDesktop(raw, warnings) : { raw, keyPath: (p: (string | number)[]) => p };
  const result = parseConfig(input.raw, env);
  if ('config' in result) return { config: result.config, format: claude ? 'claude-desktop' : 'yaml', warnings };
  const lines = result.issues.map((issue) => describe({ ...issue, path: input.keyPath(issue.path) }, doc, lineCounter, file));
  const reference = claude ? 'see "Claude Desktop config files" in README.md' : 'see the config reference in README.md';
  throw new UserError(`${file}: ${lines.length === 1 ? 'a config error' : `${lines.length} config errors`}`, lines.join('\n'), reference);
}

/** A Claude Desktop config: `mcpServers` and no gateway `servers`. */
function isClaudeDesktop(raw: unknown): raw is { mcpServers: unknown } {
  return Boolean(raw && typeof raw === 'object' && !Array.isArray(raw) && 'mcpServers' in raw && !('servers' in raw));
}

/** Claude Desktop keys of a server entry and where they go. */
const CLAUDE_KEYS: Record<string, string> = { command: 'command', args: 'args', env: 'env', cwd: 'path' };

/**
 * The gateway config for a Claude Desktop file's `mcpServers`, and how to map an issue's key path
 * back to the file. Entries that are not STDIO servers (`url`, a `type` other than stdio) are left
 * out with a warning; `disabled: true` (as some clients write) is `enabled: false`.
 */
function fromClaudeDesktop(raw: { mcpServers: unknown }, warnings: string[]): { raw: unknown; keyPath: (p: (string | number)[]) => (string | number)[] } {
  const servers: Record<string, unknown> = {};
  const entries = raw.mcpServers;
  if (!entries || typeof entries !== 'object' || Array.isArray(entries)) {
    return { raw: { servers: entries }, keyPath: (p) => ['mcpServers', ...p.slice(1)] };
  }
  for (const [name, entry] of Object.entries(entries as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      servers[name] = entry;
      continue;
    }
    const fields = entry as Record<string, unknown>;
    const type = fields.type;
    if (fields.command === undefined && (fields.url !== undefined || (type !== undefined && type !== 'stdio'))) {
      warnings.push(`mcpServers.${name}: left out: it is a remote server (${fields.url ? 'url' : `type ${String(type)}`}), not a STDIO server this host can run`);
      continue;
    }
    const server: Record<string, unknown> = {};
    const ignored: string[] = [];
    for (const [key, value] of Object.entries(fields)) {
      if (key in CLAUDE_KEYS) server[CLAUDE_KEYS[key]!] = value;
      else if (key === 'disabled') server.enabled = typeof value === 'boolean' ? !value : value;
      else if (key !== 'type') ignored.push(key);
    }
    if (ignored.length) warnings.push(`mcpServers.${name}: ignored ${ignored.map((k) => `"${k}"`).join(', ')} (the gateway uses command, args, env, cwd, disabled)`);
    servers[name] = server;
  }
  const back = Object.fromEntries(Object.entries(CLAUDE_KEYS).map(([from, to]) => [to, from]));
  return {
    raw: { servers },
    keyPath: (p) => {
      if (p[0] !== 'servers') return p;
      const key = p[2] === 'enabled' ? 'disabled' : typeof p[2] === 'string' ? (back[p[2]] ?? p[2]) : p[2];
      return ['mcpServers', ...p.slice(1, 2), ...(p.length > 2 ? [key!] : []), ...p.slice(3)];
    },
  };
}

function describe(issue: ConfigIssue, doc: ReturnType<typeof parseDocument>, lineCounter: LineCounter, file: string): string {
  const key = issue.path.join('.') || '(top level)';
  // Point at the deepest part of the path that exists in the file.
  for (let depth = issue.path.length; depth >= 0; depth--) {
    const node = doc.getIn(issue.path.slice(0, depth), true);
    const pairKey = depth > 0 ? findKeyNode(doc, issue.path.slice(0, depth)) : undefined;
    const range = (pairKey ?? (isNode(node) ? node : undefined))?.range;
    if (range) return `${file}:${lineCounter.linePos(range[0]).line}: ${key}: ${issue.message}`;
  }
  return `${file}: ${key}: ${issue.message}`;
}

/** The key node of the pair at `keyPath`, so an unknown key is reported at its own line. */
function findKeyNode(doc: ReturnType<typeof parseDocument>, keyPath: (string | number)[]): { range?: [number, number, number] | null } | undefined {
  const parent = keyPath.length > 1 ? doc.getIn(keyPath.slice(0, -1), true) : doc.contents;
  const last = keyPath[keyPath.length - 1];
  if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray(parent.items)) {
    for (const item of parent.items as { key?: { value?: unknown; range?: [number, number, number] } }[]) {
      if (item?.key && item.key.value === last) return item.key;
    }
  }
  return undefined;
}
