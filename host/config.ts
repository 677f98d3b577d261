/** Reading config.yaml (or CONFIG_PATH): YAML, `${VAR}` expansion, the strict schema, and errors with line numbers. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { parseConfig, type Config, type ConfigIssue } from '../shared/config.ts';
import { UserError } from './user-error.ts';

export interface LoadedConfig {
  config: Config;
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
    throw new UserError(`cannot read config file ${file}`, (err as Error).message, 'create it, or point CONFIG_PATH at your config.yaml');
  }
  return { config: parseConfigText(text, file, env), file, dir: path.dirname(file) };
}

export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length) {
    const first = doc.errors[0]!;
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new UserError(`${file}:${line}: not valid YAML`, first.message.split('\n')[0] ?? '', 'fix the YAML syntax at that line');
  }
  const result = parseConfig(doc.toJS(), env);
  if ('config' in result) return result.config;
  const lines = result.issues.map((issue) => describe(issue, doc, lineCounter, file));
  throw new UserError(`${file}: ${lines.length === 1 ? 'a config error' : `${lines.length} config errors`}`, lines.join('\n'), 'see the config reference in README.md');
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
