import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from './config.ts';
import { DEFAULT_LIMITS, LIMIT_SETTINGS, limitsFromVars, limitVars } from './settings.ts';

describe('the settings table', () => {
  it('gives config.yaml its defaults', () => {
    expect(ConfigSchema.parse({}).limits).toEqual(DEFAULT_LIMITS);
    expect(ConfigSchema.parse({ limits: { callTimeoutMs: '5000' } }).limits).toEqual({ ...DEFAULT_LIMITS, callTimeoutMs: 5000 });
    expect(ConfigSchema.safeParse({ limits: { callTimeoutMs: 10 } }).success).toBe(false);
    expect(ConfigSchema.safeParse({ limits: { callTimout: 1000 } }).success).toBe(false);
  });

  it("matches wrangler.toml's [vars], so a deploy without config.yaml has the same defaults", () => {
    const toml = parse(readFileSync(path.resolve(import.meta.dirname, '../wrangler.toml'), 'utf8')) as { vars: Record<string, string> };
    expect(Object.fromEntries(Object.entries(toml.vars).filter(([key]) => key in limitVars(DEFAULT_LIMITS)))).toEqual(limitVars(DEFAULT_LIMITS));
    for (const setting of Object.values(LIMIT_SETTINGS)) expect(toml.vars).toHaveProperty(setting.workerVar);
  });

  it('the edge reads its variables back: absent or empty is the default, anything invalid names the variable', () => {
    expect(limitsFromVars({})).toEqual(DEFAULT_LIMITS);
    expect(limitsFromVars({ CALL_TIMEOUT_MS: '', MAX_RESULT_CHARS: '0' })).toEqual({ ...DEFAULT_LIMITS, maxResultChars: 0 });
    expect(limitsFromVars(limitVars({ ...DEFAULT_LIMITS, callTimeoutMs: 1234 }))).toEqual({ ...DEFAULT_LIMITS, callTimeoutMs: 1234 });
    expect(() => limitsFromVars({ CALL_TIMEOUT_MS: 'soon' })).toThrow(/CALL_TIMEOUT_MS="soon"/);
    expect(() => limitsFromVars({ MAX_BODY_BYTES: '10' })).toThrow(/MAX_BODY_BYTES="10"/);
  });
});
