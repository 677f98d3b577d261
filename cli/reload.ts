/**
 * Hot reload: the host watches its config file and applies what changed without restarting.
 * Servers are applied one by one (see `HostAgent.applyConfig`): a changed server's processes stop
 * and start again with the new settings, the others keep running, added servers are announced and
 * removed ones disappear. `debug.level` and `debug.format` apply at once. Everything else (the
 * edge's settings, `host.*`, auth) needs a restart, and the log says so. A file that does not
 * parse is reported and ignored: the running config stays.
 */
import { watch, type FSWatcher, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../shared/config.ts';
import { loadConfig, type LoadedConfig } from './config.ts';
import { configSecrets } from './edge-secrets.ts';
import type { Logger } from '../host/logger.ts';
import type { ServerChanges } from '../host/servers.ts';
import { UserError } from './user-error.ts';

export interface Reloadable {
  applyConfig(config: Config): Promise<ServerChanges>;
}

export interface WatchOptions {
  file: string;
  env?: NodeJS.ProcessEnv;
  /** The config running now. */
  config: Config;
  agent: Reloadable;
  logger: Logger;
  /** Quiet period after the last change event before the file is read (editors write in steps). */
  debounceMs?: number;
  /** Called after each reload attempt (tests). */
  onReload?: (result: ReloadResult) => void;
}

export type ReloadResult =
  | { ok: true; changes: ServerChanges; restartNeeded: string[] }
  | { ok: false; error: string };

/** Settings that differ between two configs and only take effect on a restart. */
export function restartNeeded(old: Config, next: Config): string[] {
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
  const changed: string[] = [];
  for (const key of keys) {
    if (key === 'servers' || key === 'debug') continue;
    const a = (old as Record<string, unknown>)[key];
    const b = (next as Record<string, unknown>)[key];
    if (key === 'host' && a && b && typeof a === 'object' && typeof b === 'object') {
      for (const sub of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (JSON.stringify((a as Record<string, unknown>)[sub]) !== JSON.stringify((b as Record<string, unknown>)[sub])) changed.push(`host.${sub}`);
      }
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      changed.push(key);
    }
  }
  return changed;
}

/** One line for the log: what a reload did. */
export function describeChanges(changes: ServerChanges): string {
  const parts = [
    changes.added.length ? `added ${changes.added.join(', ')}` : '',
    changes.changed.length ? `restarted ${changes.changed.join(', ')}` : '',
    changes.removed.length ? `removed ${changes.removed.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'no server changed';
}

export class ConfigWatcher {
  readonly #opts: WatchOptions;
  readonly #watcher: FSWatcher;
  #config: Config;
  #lastText: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(opts: WatchOptions) {
    this.#opts = opts;
    this.#config = opts.config;
    this.#lastText = readText(opts.file);
    // The folder, not the file: editors often replace the file (write a new one, rename it over).
    const name = path.basename(opts.file);
    this.#watcher = watch(path.dirname(opts.file), { persistent: false }, (_event, changed) => {
      if (changed === null || changed === name) this.#schedule();
    });
    this.#watcher.on('error', (err) => opts.logger.warn('stopped watching the config file', { file: opts.file, error: err.message }));
  }

  get config(): Config {
    return this.#config;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watcher.close();
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), this.#opts.debounceMs ?? 150);
  }

  /** Reads the file and applies it if its text changed; one reload at a time. */
  async reload(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#reload().finally(() => {
      this.#running = undefined;
      if (this.#again && !this.#closed) {
        this.#again = false;
        void this.reload();
      }
    });
    return this.#running;
  }

  async #reload(): Promise<void> {
    const { file, logger } = this.#opts;
    const text = readText(file);
    // Missing for a moment while an editor replaces it: the next event brings it back.
    if (text === undefined || text === this.#lastText || this.#closed) return;
    let loaded: LoadedConfig;
    try {
      loaded = loadConfig(file, this.#opts.env ?? process.env);
    } catch (err) {
      // A half-written file looks the same as a mistake: report it, keep running, and try again on the next change.
      const error = err instanceof UserError ? `${err.message}${err.detail ? `: ${err.detail.replaceAll('\n', '; ')}` : ''}` : String(err);
      logger.error('the changed config file has errors; still running the previous config', { error });
      this.#opts.onReload?.({ ok: false, error });
      return;
    }
    this.#lastText = text;
    const next = loaded.config;
    for (const secret of configSecrets(next)) logger.addSecret(secret);
    for (const warning of loaded.warnings) logger.warn(warning);
    if (next.debug.level !== this.#config.debug.level) logger.setLevel(next.debug.level);
    if (next.debug.format !== this.#config.debug.format) logger.setFormat(next.debug.format);
    const restart = restartNeeded(this.#config, next);
    if (restart.length) logger.warn(`config changes that need a restart were not applied: ${restart.join(', ')}`);
    const changes = await this.#opts.agent.applyConfig(next);
    // What runs now: the new servers and log settings, the old values of everything that needs a restart.
    this.#config = { ...this.#config, servers: next.servers, debug: next.debug };
    logger.info(`config reloaded: ${describeChanges(changes)}`);
    this.#opts.onReload?.({ ok: true, changes, restartNeeded: restart });
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
