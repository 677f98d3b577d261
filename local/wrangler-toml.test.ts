import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { edgeSettings, parseToml, readEdgeSettings, WranglerTomlError } from './wrangler-toml.ts';

const WRANGLER_TOML = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../wrangler.toml');

describe('readEdgeSettings', () => {
  it("reads the project's wrangler.toml as wrangler itself does", async () => {
    const { unstable_getMiniflareWorkerOptions } = await import('wrangler');
    const { workerOptions } = unstable_getMiniflareWorkerOptions(WRANGLER_TOML) as unknown as {
      workerOptions: {
        compatibilityDate: string;
        compatibilityFlags: string[];
        bindings: Record<string, unknown>;
        durableObjects: Record<string, { className: string; useSQLite?: boolean }>;
        additionalUnboundDurableObjects: { className: string; useSQLite?: boolean }[];
      };
    };
    const ours = readEdgeSettings(WRANGLER_TOML);
    expect(ours.compatibilityDate).toBe(workerOptions.compatibilityDate);
    expect(ours.compatibilityFlags).toEqual(workerOptions.compatibilityFlags);
    expect(ours.vars).toEqual(workerOptions.bindings);
    const theirs = [
      ...Object.entries(workerOptions.durableObjects).map(([binding, d]) => ({ className: d.className, binding, sql: d.useSQLite ?? false })),
      ...workerOptions.additionalUnboundDurableObjects.map((d) => ({ className: d.className, sql: d.useSQLite ?? false })),
    ];
    expect(ours.durableObjects).toEqual(theirs);
  }, 30_000);
});

describe('parseToml', () => {
  it('reads tables, arrays of tables, strings, numbers, booleans, arrays and inline tables', () => {
    const text = `# comment
name = "w" # trailing comment
flags = ["a", 'b',
  "c\\u00e9", # inside an array
]
n = 1_000
f = 1.5
yes = true
[vars]
A = "x\\"y"
B = { k = 1, "q" = [2] }
[[durable_objects.bindings]]
name = "HUB"
class_name = "HubObject"
[[durable_objects.bindings]]
name = "OTHER"
class_name = "Other"
`;
    expect(parseToml(text)).toEqual({
      name: 'w',
      flags: ['a', 'b', 'cé'],
      n: 1000,
      f: 1.5,
      yes: true,
      vars: { A: 'x"y', B: { k: 1, q: [2] } },
      durable_objects: { bindings: [{ name: 'HUB', class_name: 'HubObject' }, { name: 'OTHER', class_name: 'Other' }] },
    });
  });

  it('refuses invalid TOML, with the line', () => {
    expect(() => parseToml('a = 1\na = 2\n')).toThrow(/wrangler\.toml:2: /);
    expect(() => parseToml('a = 1\nb = [\n')).toThrow(/wrangler\.toml:\d+: /);
  });
});

describe('edgeSettings', () => {
  const base = { name: 'w', compatibility_date: '2026-01-01' };

  it('refuses a binding the local edge would not set up', () => {
    expect(() => edgeSettings({ ...base, kv_namespaces: [{ binding: 'KV', id: 'x' }] })).toThrow(WranglerTomlError);
    expect(() => edgeSettings({ ...base, kv_namespaces: [] })).toThrow(/"kv_namespaces" is not set up by the local edge/);
  });

  it('replays migrations for the storage kind of each class', () => {
    const settings = edgeSettings({
      ...base,
      durable_objects: { bindings: [{ name: 'B', class_name: 'New' }] },
      migrations: [
        { tag: 'v1', new_classes: ['Old'], new_sqlite_classes: ['Sql'] },
        { tag: 'v2', renamed_classes: [{ from: 'Sql', to: 'New' }], deleted_classes: ['Old'] },
      ],
    });
    expect(settings.durableObjects).toEqual([{ className: 'New', binding: 'B', sql: true }]);
  });
});
