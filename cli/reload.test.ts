import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema, type Config } from '../shared/config.ts';
import { loadConfig } from './config.ts';
import { Logger } from '../host/logger.ts';
import { ConfigWatcher, describeChanges, restartNeeded, type ReloadResult } from './reload.ts';
import type { ServerChanges } from '../host/servers.ts';

const parse = (raw: unknown): Config => ConfigSchema.parse(raw);

describe('restartNeeded', () => {
  it('names settings outside servers and debug that changed', () => {
    const old = parse({ port: 3000, servers: { a: { command: 'x' } } });
    expect(restartNeeded(old, parse({ port: 3000, debug: { level: 'debug' }, servers: { b: { command: 'y' } } }))).toEqual([]);
    expect(restartNeeded(old, parse({ port: 3001, host: { id: 'h2' }, auth: { bearer: { tokens: ['t'] } } })).sort()).toEqual(['auth', 'host.id', 'port']);
  });
});

describe('describeChanges', () => {
  it('says what happened to which servers', () => {
    expect(describeChanges({ added: ['c'], removed: ['a'], changed: ['b'] })).toBe('added c; restarted b; removed a');
    expect(describeChanges({ added: [], removed: [], changed: [] })).toBe('no server changed');
  });
});

describe('ConfigWatcher', () => {
  const dirs: string[] = [];
  const watchers: ConfigWatcher[] = [];
  afterEach(() => {
    for (const w of watchers.splice(0)) w.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function setUp(yaml: string) {
    const dir = mkdtempSync(path.join(tmpdir(), 'gw-reload-'));
    dirs.push(dir);
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, yaml);
    const applied: Config[] = [];
    const results: ReloadResult[] = [];
    const lines: string[] = [];
    const logger = new Logger('info', { color: false, write: (line) => lines.push(line) });
    const agent = {
      applyConfig: async (config: Config): Promise<ServerChanges> => {
        applied.push(config);
        return { added: Object.keys(config.servers).filter((n) => n === 'b'), removed: [], changed: [] };
      },
    };
    const watcher = new ConfigWatcher({ file, env: {}, config: loadConfig(file, {}).config, agent, logger, debounceMs: 20, onReload: (r) => results.push(r) });
    watchers.push(watcher);
    const next = async (count: number): Promise<ReloadResult> => {
      const deadline = Date.now() + 10_000;
      while (results.length < count) {
        if (Date.now() > deadline) throw new Error(`no reload #${count}; log:\n${lines.join('')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return results[count - 1]!;
    };
    return { file, dir, applied, results, lines, logger, next, watcher };
  }

  it('applies a changed file, and the level of the log at once', async () => {
    const { file, applied, next, lines, logger, watcher } = setUp('servers:\n  a:\n    command: x\n');
    writeFileSync(file, 'debug:\n  level: debug\nservers:\n  a:\n    command: x\n  b:\n    command: y\n');
    const result = await next(1);
    expect(result).toEqual({ ok: true, changes: { added: ['b'], removed: [], changed: [] }, restartNeeded: [] });
    expect(Object.keys(applied[0]!.servers)).toEqual(['a', 'b']);
    expect(logger.level).toBe('debug');
    expect(lines.join('')).toContain('config reloaded: added b');
    expect(Object.keys(watcher.config.servers)).toEqual(['a', 'b']);
  });

  it('keeps running the old config when the new file has errors, and says so with the line', async () => {
    const { file, applied, next, lines } = setUp('servers:\n  a:\n    command: x\n');
    writeFileSync(file, 'servers:\n  a:\n    comand: x\n');
    const result = await next(1);
    expect(result.ok).toBe(false);
    expect(applied).toEqual([]);
    expect(lines.join('')).toMatch(/still running the previous config.*config\.yaml:3: servers\.a\.comand/);
    // Fixed: applied.
    writeFileSync(file, 'servers:\n  a:\n    command: z\n');
    expect((await next(2)).ok).toBe(true);
    expect(applied[0]!.servers.a?.command).toBe('z');
  });

  it('follows a file replaced by rename (as editors save), and warns about settings that need a restart', async () => {
    const { file, dir, next, lines } = setUp('port: 3000\nservers: {}\n');
    const temp = path.join(dir, '.config.yaml.swp');
    writeFileSync(temp, 'port: 4000\nservers: {}\n');
    renameSync(temp, file);
    const result = await next(1);
    expect(result).toMatchObject({ ok: true, restartNeeded: ['port'] });
    expect(lines.join('')).toContain('need a restart were not applied: port');
  });
});
