import { describe, expect, it } from 'vitest';
import { workerdConfig } from './workerd-config.ts';

describe('workerdConfig', () => {
  it('quotes every value as a Cap\'n Proto string and takes secrets from the environment', () => {
    const config = workerdConfig({
      settings: { name: 'w', compatibilityDate: '2026-01-01', compatibilityFlags: [], vars: { A: 'say "hi"\\\n', J: { n: 1 }, S: 'overridden' }, durableObjects: [{ className: 'Hub', binding: 'HUB', sql: true }] },
      moduleFile: 'index.js',
      textModules: [{ name: 'pkg/a "b".js', file: 'text-0.txt' }],
      envBindings: { S: 'ENV_S' },
      trustedCertificates: ['-----BEGIN CERTIFICATE-----\nAB==\n-----END CERTIFICATE-----'],
      storageDir: '/tmp/x',
      address: '127.0.0.1:0',
    });
    expect(config).toContain('(name = "A", text = "say \\"hi\\"\\\\\\x0a")');
    expect(config).toContain('(name = "J", json = "{\\"n\\":1}")');
    expect(config).toContain('(name = "S", fromEnvironment = "ENV_S")');
    expect(config).not.toContain('overridden');
    expect(config).toContain('(className = "Hub", uniqueKey = "w-Hub", enableSql = true)');
    expect(config).toContain('modules = [(name = "index.js", esModule = embed "index.js"), (name = "pkg/a \\"b\\".js", text = embed "text-0.txt")]');
    expect(config).toContain('http = (injectRequestHeaders = [(name = "CF-Connecting-IP")])');
    expect(config).toContain('trustedCertificates = ["-----BEGIN CERTIFICATE-----\\x0aAB==\\x0a-----END CERTIFICATE-----"]');
  });
});
