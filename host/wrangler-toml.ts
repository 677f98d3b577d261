/**
 * What the local edge needs from wrangler.toml: compatibility date and flags, [vars], and the
 * Durable Object classes with their storage kind (from [[migrations]]). wrangler.toml stays the one
 * source of these; this reads them without loading wrangler (about 1.8 s of startup).
 *
 * It reads the part of TOML that wrangler.toml files use (tables, arrays of tables, strings,
 * numbers, booleans, arrays and inline tables) and refuses the rest with the line, and refuses
 * wrangler keys that would change the Worker's behaviour but that the local edge does not set up
 * (KV, R2, service bindings, ...), so a binding is never silently missing locally.
 * host/wrangler-toml.test.ts checks it against wrangler's own reading of wrangler.toml.
 */
import { readFileSync } from 'node:fs';

export interface DurableObjectClass {
  className: string;
  /** Bound as `env[binding]`; undefined for a class that only has a migration. */
  binding?: string;
  /** A SQLite-backed class (`new_sqlite_classes`): `ctx.storage.sql` is available. */
  sql: boolean;
}

export interface EdgeSettings {
  name: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** [vars]: strings become text bindings, anything else a JSON binding. */
  vars: Record<string, unknown>;
  durableObjects: DurableObjectClass[];
}

/** Keys the local edge applies. */
const APPLIED = new Set(['name', 'compatibility_date', 'compatibility_flags', 'vars', 'durable_objects', 'migrations']);
/** Keys that only matter to `wrangler deploy` or to wrangler's own bundling and dev server. */
const DEPLOY_ONLY = new Set([
  'main', 'account_id', 'workers_dev', 'preview_urls', 'route', 'routes', 'observability', 'placement', 'limits',
  'minify', 'keep_names', 'keep_vars', 'send_metrics', 'upload_source_maps', 'logpush', 'tail_consumers', 'dev', 'env',
  'build', 'no_bundle', 'rules', 'find_additional_modules', 'base_dir', 'preserve_file_names', 'tsconfig', 'define', 'alias',
  'triggers', '$schema',
]);

export class WranglerTomlError extends Error {}

export function readEdgeSettings(file: string): EdgeSettings {
  return edgeSettings(parseToml(readFileSync(file, 'utf8'), file), file);
}

export function edgeSettings(config: Record<string, unknown>, file = 'wrangler.toml'): EdgeSettings {
  const fail = (message: string): never => {
    throw new WranglerTomlError(`${file}: ${message}`);
  };
  for (const key of Object.keys(config)) {
    if (!APPLIED.has(key) && !DEPLOY_ONLY.has(key)) {
      fail(`"${key}" is not set up by the local edge (host/wrangler-toml.ts, host/workerd-config.ts); add it there, or use \`npm run dev\``);
    }
  }
  const str = (value: unknown, what: string): string => (typeof value === 'string' ? value : fail(`${what} must be a string`));
  const table = (value: unknown, what: string): Record<string, unknown> =>
    value === undefined ? {} : isTable(value) ? value : fail(`${what} must be a table`);
  const list = (value: unknown, what: string): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : fail(`${what} must be an array`));

  const doSection = table(config.durable_objects, 'durable_objects');
  for (const key of Object.keys(doSection)) if (key !== 'bindings') fail(`durable_objects.${key} is not supported by the local edge`);

  // Storage kind per class, replaying the migrations in order as wrangler does.
  const sqlByClass = new Map<string, boolean>();
  for (const [i, raw] of list(config.migrations, 'migrations').entries()) {
    const migration = table(raw, `migrations[${i}]`);
    const names = (key: string) => list(migration[key], `migrations[${i}].${key}`).map((n) => str(n, `migrations[${i}].${key}[]`));
    for (const name of names('deleted_classes')) sqlByClass.delete(name);
    for (const [j, rename] of list(migration.renamed_classes, `migrations[${i}].renamed_classes`).entries()) {
      const { from, to } = table(rename, `migrations[${i}].renamed_classes[${j}]`);
      const sql = sqlByClass.get(str(from, 'renamed_classes.from'));
      if (sql === undefined) fail(`migrations[${i}] renames unknown class ${String(from)}`);
      sqlByClass.delete(from as string);
      sqlByClass.set(str(to, 'renamed_classes.to'), sql!);
    }
    for (const name of names('new_classes')) sqlByClass.set(name, false);
    for (const name of names('new_sqlite_classes')) sqlByClass.set(name, true);
    for (const key of Object.keys(migration)) {
      if (!['tag', 'new_classes', 'new_sqlite_classes', 'renamed_classes', 'deleted_classes'].includes(key)) fail(`migrations[${i}].${key} is not supported by the local edge`);
    }
  }

  const durableObjects: DurableObjectClass[] = [];
  for (const [i, raw] of list(doSection.bindings, 'durable_objects.bindings').entries()) {
    const binding = table(raw, `durable_objects.bindings[${i}]`);
    if (binding.script_name !== undefined) fail(`durable_objects.bindings[${i}].script_name (a class in another Worker) is not supported by the local edge`);
    const className = str(binding.class_name, `durable_objects.bindings[${i}].class_name`);
    durableObjects.push({ className, binding: str(binding.name, `durable_objects.bindings[${i}].name`), sql: sqlByClass.get(className) ?? false });
  }
  for (const [className, sql] of sqlByClass) {
    if (!durableObjects.some((d) => d.className === className)) durableObjects.push({ className, sql });
  }

  const date = str(config.compatibility_date, 'compatibility_date');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) fail(`compatibility_date "${date}" is not YYYY-MM-DD`);
  return {
    name: config.name === undefined ? 'worker' : str(config.name, 'name'),
    compatibilityDate: date,
    compatibilityFlags: list(config.compatibility_flags, 'compatibility_flags').map((f) => str(f, 'compatibility_flags[]')),
    vars: table(config.vars, 'vars'),
    durableObjects,
  };
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses the subset of TOML described above; anything else is an error naming the line. */
export function parseToml(text: string, file = 'wrangler.toml'): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let current = root;
  let pos = 0;
  let line = 1;
  const fail = (message: string): never => {
    throw new WranglerTomlError(`${file}:${line}: ${message} (the local edge reads a subset of TOML: host/wrangler-toml.ts)`);
  };
  const peek = () => text[pos] ?? '';
  const skipSpaces = () => {
    while (peek() === ' ' || peek() === '\t') pos++;
  };
  /** Spaces, newlines and comments, as allowed inside arrays. */
  const skipBlank = () => {
    for (;;) {
      skipSpaces();
      if (peek() === '#') while (pos < text.length && peek() !== '\n') pos++;
      else if (peek() === '\n' || peek() === '\r') {
        if (peek() === '\n') line++;
        pos++;
      } else return;
    }
  };
  const endOfLine = () => {
    skipSpaces();
    if (peek() === '#') while (pos < text.length && peek() !== '\n') pos++;
    if (peek() === '\r') pos++;
    if (pos < text.length && peek() !== '\n') fail(`unexpected "${peek()}"`);
  };
  const key = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipSpaces();
      if (peek() === '"' || peek() === "'") parts.push(string());
      else {
        const match = /^[A-Za-z0-9_-]+/.exec(text.slice(pos));
        if (!match) fail('expected a key');
        parts.push(match![0]);
        pos += match![0].length;
      }
      skipSpaces();
      if (peek() !== '.') return parts;
      pos++;
    }
  };
  const string = (): string => {
    const quote = text[pos++];
    if (text.startsWith(quote!.repeat(2), pos)) fail('multi-line strings are not supported');
    let out = '';
    for (;;) {
      const c = text[pos++];
      if (c === undefined || c === '\n') fail('unterminated string');
      if (c === quote) return out;
      if (c === '\\' && quote === '"') {
        const e = text[pos++];
        const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
        if (e! in simple) out += simple[e!];
        else if (e === 'u' || e === 'U') {
          const hex = text.slice(pos, pos + (e === 'u' ? 4 : 8));
          if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== (e === 'u' ? 4 : 8)) fail('bad unicode escape');
          out += String.fromCodePoint(parseInt(hex, 16));
          pos += hex.length;
        } else fail(`bad escape "\\${e}"`);
      } else out += c;
    }
  };
  const value = (): unknown => {
    skipSpaces();
    const c = peek();
    if (c === '"' || c === "'") return string();
    if (c === '[') {
      pos++;
      const items: unknown[] = [];
      for (;;) {
        skipBlank();
        if (peek() === ']') break;
        items.push(value());
        skipBlank();
        if (peek() === ',') pos++;
        else if (peek() !== ']') fail('expected "," or "]" in an array');
      }
      pos++;
      return items;
    }
    if (c === '{') {
      pos++;
      const table: Record<string, unknown> = {};
      skipSpaces();
      if (peek() === '}') {
        pos++;
        return table;
      }
      for (;;) {
        const path = key();
        if (peek() !== '=') fail('expected "=" in an inline table');
        pos++;
        assign(table, path, value());
        skipSpaces();
        if (peek() === ',') pos++;
        else if (peek() === '}') {
          pos++;
          return table;
        } else fail('expected "," or "}" in an inline table');
      }
    }
    const match = /^(true|false|[+-]?\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?)(?=[\s,\]}#]|$)/.exec(text.slice(pos));
    if (!match) fail('unsupported value (dates, hex and special floats are not read)');
    pos += match![0].length;
    return match![1] === 'true' ? true : match![1] === 'false' ? false : Number(match![0].replace(/_/g, ''));
  };
  const assign = (target: Record<string, unknown>, path: string[], v: unknown) => {
    let t = target;
    for (const part of path.slice(0, -1)) {
      const next = (t[part] ??= {});
      if (!isTable(next)) fail(`"${part}" is already a value`);
      t = next as Record<string, unknown>;
    }
    const last = path.at(-1)!;
    if (last in t) fail(`"${path.join('.')}" is defined twice`);
    t[last] = v;
  };

  for (;;) {
    skipBlank();
    if (pos >= text.length) return root;
    if (peek() === '[') {
      const arrayOfTables = text[pos + 1] === '[';
      pos += arrayOfTables ? 2 : 1;
      const path = key();
      if (!text.startsWith(arrayOfTables ? ']]' : ']', pos)) fail('expected "]" after a table name');
      pos += arrayOfTables ? 2 : 1;
      let t = root;
      for (const part of path.slice(0, -1)) {
        let next = t[part] ?? (t[part] = {});
        if (Array.isArray(next)) next = next.at(-1);
        if (!isTable(next)) fail(`"${part}" is not a table`);
        t = next as Record<string, unknown>;
      }
      const last = path.at(-1)!;
      if (arrayOfTables) {
        const list = (t[last] ??= []);
        if (!Array.isArray(list)) fail(`"${path.join('.')}" is not an array of tables`);
        current = {};
        (list as unknown[]).push(current);
      } else {
        const existing = t[last];
        if (existing !== undefined && !isTable(existing)) fail(`"${path.join('.')}" is not a table`);
        current = (t[last] ??= {}) as Record<string, unknown>;
      }
    } else {
      const path = key();
      if (peek() !== '=') fail('expected "="');
      pos++;
      assign(current, path, value());
    }
    endOfLine();
  }
}
