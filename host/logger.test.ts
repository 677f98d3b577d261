import { describe, expect, it } from 'vitest';
import { colorByDefault, Logger } from './logger.ts';

function capture(level: ConstructorParameters<typeof Logger>[0], options: ConstructorParameters<typeof Logger>[1] = {}) {
  const lines: string[] = [];
  const logger = new Logger(level, { color: false, ...options, write: (line) => lines.push(line) });
  return { logger, lines };
}

describe('Logger', () => {
  it('text: timestamp, level, scope, message and fields on one line', () => {
    const { logger, lines } = capture('info');
    logger.child('host').child('everything').info('server started', { tools: 13, ok: true });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[INFO\]: \[host\] \[everything\] server started tools=13 ok=true\n$/);
  });

  it('writes only entries at or above its level, and a level change reaches its children', () => {
    const { logger, lines } = capture('warn');
    const child = logger.child('c');
    child.info('hidden');
    child.warn('shown');
    logger.setLevel('debug');
    child.debug('now shown');
    child.verbose('still hidden');
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(['[WARN]: [c] shown\n', '[DEBUG]: [c] now shown\n']);
    expect(child.level).toBe('debug');
  });

  it('json: one JSON object per line with time, level, message, scope and the fields', () => {
    const { logger, lines } = capture('debug', { format: 'json' });
    logger.child('host').debug('call done', { server: 'fs', ms: 12, nested: { a: [1] } });
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 'debug', message: 'call done', scope: 'host', server: 'fs', ms: 12, nested: { a: [1] } });
    expect(Number.isNaN(Date.parse(entry.time))).toBe(false);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(lines[0]!.trim()).not.toContain('\n');
  });

  it('masks secrets in messages and field values, and secret-named fields, in both formats', () => {
    for (const format of ['text', 'json'] as const) {
      const { logger, lines } = capture('info', { format });
      logger.addSecret('s3cr3t-token-value');
      logger.child('x').info('using s3cr3t-token-value', { url: 'wss://edge?t=s3cr3t-token-value', password: 'hunter2', authorization: 'Bearer abc' });
      const line = lines[0]!;
      expect(line).not.toContain('s3cr3t-token-value');
      expect(line).not.toContain('hunter2');
      expect(line).not.toContain('Bearer abc');
      expect(line.match(/\[redacted\]/g)!.length).toBe(4);
    }
  });

  it('colours the level only when asked to', () => {
    const { logger, lines } = capture('info', { color: true });
    logger.error('bad');
    expect(lines[0]).toContain('\x1b[31m[ERROR]\x1b[0m');
    const plain = capture('info', { color: false });
    plain.logger.error('bad');
    expect(plain.lines[0]).not.toContain('\x1b[');
  });

  it('colour by default: never with NO_COLOR, as FORCE_COLOR says, else on a terminal', () => {
    expect(colorByDefault({ NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(colorByDefault({ FORCE_COLOR: '0' })).toBe(false);
    expect(colorByDefault({ FORCE_COLOR: '1' })).toBe(true);
    expect(colorByDefault({})).toBe(Boolean(process.stderr.isTTY));
  });

  it('a format change applies at once (hot reload)', () => {
    const { logger, lines } = capture('info');
    logger.setFormat('json');
    logger.info('hi');
    expect(JSON.parse(lines[0]!).message).toBe('hi');
  });
});
