/** Host logs: to stderr, with levels, timestamps and secrets masked. The only place that writes to the console. */
import { LOG_LEVELS, type LogLevel } from '../shared/config.ts';

const SECRET_FIELD = /authorization|password|token|secret|cookie/i;
const COLORS: Record<LogLevel, string> = { error: '\x1b[31m', warn: '\x1b[33m', info: '\x1b[36m', debug: '\x1b[90m', verbose: '\x1b[90m' };

export class Logger {
  readonly #rank: number;
  readonly #secrets: Set<string>;
  readonly #prefix: string;
  readonly #color: boolean;

  constructor(level: LogLevel = 'info', options: { prefix?: string; secrets?: Set<string>; color?: boolean } = {}) {
    this.#rank = LOG_LEVELS.indexOf(level);
    this.#secrets = options.secrets ?? new Set();
    this.#prefix = options.prefix ?? '';
    this.#color = options.color ?? Boolean(process.stderr.isTTY);
  }

  /** A logger whose lines start with `[prefix]`, sharing level and secrets. */
  child(prefix: string): Logger {
    const level = LOG_LEVELS[this.#rank] ?? 'info';
    return new Logger(level, { prefix: this.#prefix + `[${prefix}] `, secrets: this.#secrets, color: this.#color });
  }

  /** Text that must never appear in a log line (tokens, passwords). */
  addSecret(secret: string): void {
    if (secret.length >= 4) this.#secrets.add(secret);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.#rank;
  }

  error(message: string, fields?: Record<string, unknown>): void { this.#write('error', message, fields); }
  warn(message: string, fields?: Record<string, unknown>): void { this.#write('warn', message, fields); }
  info(message: string, fields?: Record<string, unknown>): void { this.#write('info', message, fields); }
  debug(message: string, fields?: Record<string, unknown>): void { this.#write('debug', message, fields); }
  verbose(message: string, fields?: Record<string, unknown>): void { this.#write('verbose', message, fields); }

  #write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    let text = this.#prefix + message;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        const shown = SECRET_FIELD.test(key) ? '[redacted]' : typeof value === 'string' ? value : JSON.stringify(value);
        text += ` ${key}=${shown}`;
      }
    }
    for (const secret of this.#secrets) text = text.replaceAll(secret, '[redacted]');
    const tag = level.toUpperCase();
    const label = this.#color ? `${COLORS[level]}[${tag}]\x1b[0m` : `[${tag}]`;
    process.stderr.write(`${new Date().toISOString()} ${label}: ${text}\n`);
  }
}
