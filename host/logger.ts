/**
 * Host logs: to stderr, with levels, timestamps and secrets masked. The only place that writes to
 * the console. Two formats: `text`, one readable line per entry (coloured on a terminal, plain
 * otherwise or with NO_COLOR), and `json`, one JSON object per line for log collectors, with the
 * edge's keys (`time`, `level`, `message`) plus `scope` and the entry's fields.
 */
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../shared/config.ts';

const SECRET_FIELD = /authorization|password|token|secret|cookie/i;
const COLORS: Record<LogLevel, string> = { error: '\x1b[31m', warn: '\x1b[33m', info: '\x1b[36m', debug: '\x1b[90m', verbose: '\x1b[90m' };

export interface LoggerOptions {
  prefix?: string;
  secrets?: Set<string>;
  color?: boolean;
  format?: LogFormat;
  /** Where lines go (default: stderr). */
  write?: (line: string) => void;
}

/** What a logger and its children share, so that a level or format change reaches them all. */
interface Shared {
  rank: number;
  format: LogFormat;
  secrets: Set<string>;
  color: boolean;
  write: (line: string) => void;
}

/** Colour by default on a terminal, never with NO_COLOR, always with FORCE_COLOR (other than 0). */
export function colorByDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return Boolean(process.stderr.isTTY);
}

/** Children are made with this, so they share their parent's settings object. */
const CHILD = Symbol('child');

export class Logger {
  readonly #shared: Shared;
  readonly #scope: string[];

  constructor(level: LogLevel = 'info', options: LoggerOptions & { [CHILD]?: { shared: Shared; scope: string[] } } = {}) {
    const child = options[CHILD];
    this.#shared = child?.shared ?? {
      rank: LOG_LEVELS.indexOf(level),
      format: options.format ?? 'text',
      secrets: options.secrets ?? new Set(),
      color: options.color ?? colorByDefault(),
      write: options.write ?? ((line) => process.stderr.write(line)),
    };
    this.#scope = child?.scope ?? (options.prefix ? [options.prefix] : []);
  }

  /** A logger whose lines start with `[prefix]`, sharing level, format and secrets. */
  child(prefix: string): Logger {
    return new Logger(this.level, { [CHILD]: { shared: this.#shared, scope: [...this.#scope, prefix] } });
  }

  get level(): LogLevel {
    return LOG_LEVELS[this.#shared.rank] ?? 'info';
  }

  /** Changes the level of this logger and of every logger sharing its settings (hot reload). */
  setLevel(level: LogLevel): void {
    this.#shared.rank = LOG_LEVELS.indexOf(level);
  }

  setFormat(format: LogFormat): void {
    this.#shared.format = format;
  }

  /** Text that must never appear in a log line (tokens, passwords). */
  addSecret(secret: string): void {
    if (secret.length >= 4) this.#shared.secrets.add(secret);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.#shared.rank;
  }

  error(message: string, fields?: Record<string, unknown>): void { this.#write('error', message, fields); }
  warn(message: string, fields?: Record<string, unknown>): void { this.#write('warn', message, fields); }
  info(message: string, fields?: Record<string, unknown>): void { this.#write('info', message, fields); }
  debug(message: string, fields?: Record<string, unknown>): void { this.#write('debug', message, fields); }
  verbose(message: string, fields?: Record<string, unknown>): void { this.#write('verbose', message, fields); }

  #mask(text: string): string {
    for (const secret of this.#shared.secrets) text = text.replaceAll(secret, '[redacted]');
    return text;
  }

  #write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const time = new Date().toISOString();
    if (this.#shared.format === 'json') {
      const entry: Record<string, unknown> = { time, level, message: this.#mask(message) };
      if (this.#scope.length) entry.scope = this.#scope.join('/');
      for (const [key, value] of Object.entries(fields ?? {})) {
        if (key in entry) continue;
        entry[key] = SECRET_FIELD.test(key) ? '[redacted]' : value;
      }
      let line: string;
      try {
        line = JSON.stringify(entry);
      } catch {
        line = JSON.stringify({ time, level, message: this.#mask(message), scope: entry.scope, fields: '(not serializable)' });
      }
      // Secrets inside field values: masked in the serialized line (a secret has no characters JSON escapes).
      this.#shared.write(`${this.#mask(line)}\n`);
      return;
    }
    let text = this.#scope.map((s) => `[${s}] `).join('') + message;
    for (const [key, value] of Object.entries(fields ?? {})) {
      const shown = SECRET_FIELD.test(key) ? '[redacted]' : typeof value === 'string' ? value : JSON.stringify(value);
      text += ` ${key}=${shown}`;
    }
    text = this.#mask(text);
    const tag = level.toUpperCase();
    const label = this.#shared.color ? `${COLORS[level]}[${tag}]\x1b[0m` : `[${tag}]`;
    this.#shared.write(`${time} ${label}: ${text}\n`);
  }
}
