/**
 * What the local edge needs from wrangler.toml: compatibility date and flags, [vars], and the
 * Durable Object classes with their storage kind (from [[migrations]]). wrangler.toml stays the one
 * source of these; this reads them without loading wrangler (about 1.8 s of startup).
 *
 * It refuses wrangler keys that would change the Worker's behaviour but that the local edge does not set up
 * (KV, R2, service bindings, ...), so a binding is never silently missing locally.
 * local/wrangler-toml.test.ts checks it against wrangler's own reading of wrangler.toml.
 */
import { readFileSync } from 'node:fs';
import { parse as parseTomlText, TomlError } from 'smol-toml';

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
      fail(`"${key}" is not set up by the local edge (local/wrangler-toml.ts, local/workerd-config.ts); add it there, or use \`npm run dev\``);
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
/** TOML as wrangler reads it (smol-toml: the full TOML 1.0 spec), with the file and line on errors. */
export function parseToml(text: string, file = 'wrangler.toml'): Record<string, unknown> {
  try {
    return parseTomlText(text) as Record<string, unknown>;
  } catch (err) {
    const line = err instanceof TomlError ? `:${err.line}` : '';
    throw new WranglerTomlError(`${file}${line}: ${(err as Error).message.split('\n')[0]}`);
  }
}
