import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'edge/**/*.test.ts', 'host/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // End-to-end files each start an edge and host agents; two cores run them one at a time.
    maxWorkers: 2,
    // Transformed by Vitest rather than loaded by Node, so a test can stand in for its
    // `cloudflare:workers` import (edge/oauth/expiry.test.ts).
    server: { deps: { inline: ['@cloudflare/workers-oauth-provider'] } },
  },
});
